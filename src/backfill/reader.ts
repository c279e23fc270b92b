import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { quoteIdentifier as q } from '../identifiers';
import { columnInfo } from '../schema/inspect';
import type { Shard } from './options';
import { eligibleWhere } from './queries';
import { OneAtATime } from '../util/one-at-a-time';
import { withDbRetry } from './retry';

export interface PendingRow {
  /** BIGINT ids are kept as strings (Snowflake ids exceed 2^53). */
  id: string;
  text: string;
  /** MD5 of the text as the server computes it (so the charset never matters): the write is guarded with it. */
  hash: string;
}

/**
 * How an id travels as a bound parameter. Ids are read and bound as strings; a string compared with a
 * BIGINT column is compared as a double (inexact above 2^53), so integer ids are bound as CAST(? AS ...).
 */
export async function idPlaceholder(knex: Knex, t: SparseTarget): Promise<string> {
  const info = await columnInfo(knex, t.table, t.idColumn);
  if (!info || !/int$/i.test(info.dataType)) return '?';
  return /unsigned/i.test(info.columnType) ? 'CAST(? AS UNSIGNED)' : 'CAST(? AS SIGNED)';
}

/**
 * Keyset pagination by primary key: `WHERE id > ? ORDER BY id LIMIT n`, never OFFSET, never all ids in
 * memory. One reader serves every worker, handing out consecutive key ranges (calls are serialised), so
 * no two workers ever take the same row.
 */
export class KeysetReader {
  private cursor: string | undefined;
  private readonly serial = new OneAtATime();

  constructor(
    private readonly knex: Knex,
    private readonly t: SparseTarget,
    private readonly shard: Shard | undefined,
    /** From idPlaceholder(). */
    private readonly idParam = 'CAST(? AS SIGNED)',
    /** Start after this id (a resume checkpoint); default: from the first row. */
    after?: string,
  ) {
    this.cursor = after;
  }

  /** The last id handed out (for messages). */
  get position(): string | undefined {
    return this.cursor;
  }

  /**
   * The next `limit` eligible rows after the last ones handed out; [] at the end. (It reads until a read
   * comes back empty, so rows the application appends during the run are taken too.)
   */
  next(limit: number): Promise<PendingRow[]> {
    return this.serial.run(() => withDbRetry(() => this.read(limit)));
  }

  private async read(limit: number): Promise<PendingRow[]> {
    const { t } = this;
    const w = eligibleWhere(t, this.shard);
    const after = this.cursor === undefined ? '' : ` AND ${q(t.idColumn)} > ${this.idParam}`;
    const bindings: Array<string | number> = [...w.bindings];
    if (this.cursor !== undefined) bindings.push(this.cursor);
    bindings.push(limit);
    const [rows] = (await this.knex.raw(
      `SELECT ${q(t.idColumn)} AS id, ${q(t.textColumn)} AS text, MD5(${q(t.textColumn)}) AS hash FROM ${q(t.table)} ` +
        `WHERE ${w.sql}${after} ORDER BY ${q(t.idColumn)} LIMIT ?`,
      bindings,
    )) as [Array<{ id: string | number; text: string | Buffer; hash: string }>];
    if (rows.length) this.cursor = String(rows[rows.length - 1].id);
    return rows.map((r) => ({
      id: String(r.id),
      text: Buffer.isBuffer(r.text) ? r.text.toString('utf8') : String(r.text),
      hash: String(r.hash),
    }));
  }
}
