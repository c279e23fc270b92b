import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { quoteIdentifier as q } from '../identifiers';
import type { Shard } from './options';

export interface PendingRow {
  /** BIGINT ids are kept as strings (they exceed 2^53). */
  id: string;
  text: string;
  /** MD5 of the text as the server computes it: the write is guarded with it. */
  hash: string;
}

/**
 * Rows still to embed: sparse column NULL and text not empty/whitespace, optionally one shard.
 * Shard membership is `CRC32(id) MOD n = i`: CRC32 spreads Snowflake ids (whose low bits follow a
 * sequence and a machine id) evenly, and the server computes it, so n processes split the table with
 * no coordination and no overlap.
 */
export function eligibleWhere(t: SparseTarget, shard?: Shard, alias = ''): { sql: string; bindings: number[] } {
  const p = alias ? `${alias}.` : '';
  let sql = `${p}${q(t.sparseColumn)} IS NULL AND ${p}${q(t.textColumn)} IS NOT NULL AND TRIM(${p}${q(t.textColumn)}) <> ''`;
  const bindings: number[] = [];
  if (shard && shard.count > 1) {
    sql += ` AND MOD(CRC32(${p}${q(t.idColumn)}), ?) = ?`;
    bindings.push(shard.count, shard.index);
  }
  return { sql, bindings };
}

export async function countEligible(knex: Knex, t: SparseTarget, shard?: Shard): Promise<number> {
  const w = eligibleWhere(t, shard);
  const [rows] = (await knex.raw(`SELECT COUNT(*) AS n FROM ${q(t.table)} WHERE ${w.sql}`, w.bindings)) as [Array<{ n: number | string }>];
  return Number(rows[0]?.n ?? 0);
}

/**
 * Keyset pagination by primary key (never OFFSET, never all ids in memory). One reader serves every
 * worker, handing out consecutive key ranges, so no two workers ever take the same row.
 */
export class KeysetReader {
  private cursor: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private exhausted = false;

  constructor(
    private readonly knex: Knex,
    private readonly t: SparseTarget,
    private readonly shard?: Shard,
    /** Integer ids are bound as CAST(? AS SIGNED): a string compared with a BIGINT is compared as a double. */
    private readonly integerId = true,
  ) {}

  /** The next `limit` eligible rows after the last ones handed out (serialised across callers). */
  next(limit: number): Promise<PendingRow[]> {
    const run = this.chain.then(() => this.read(limit));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async read(limit: number): Promise<PendingRow[]> {
    if (this.exhausted) return [];
    const { t } = this;
    const w = eligibleWhere(t, this.shard);
    const after = this.cursor === undefined ? '' : ` AND ${q(t.idColumn)} > ${this.integerId ? 'CAST(? AS SIGNED)' : '?'}`;
    const bindings: Array<string | number> = [...w.bindings];
    if (this.cursor !== undefined) bindings.push(this.cursor);
    bindings.push(limit);
    const [rows] = (await this.knex.raw(
      `SELECT ${q(t.idColumn)} AS id, ${q(t.textColumn)} AS text, MD5(${q(t.textColumn)}) AS hash FROM ${q(t.table)} ` +
        `WHERE ${w.sql}${after} ORDER BY ${q(t.idColumn)} LIMIT ?`,
      bindings,
    )) as [Array<{ id: string | number; text: string | Buffer; hash: string }>];
    if (rows.length < limit) this.exhausted = true;
    if (rows.length) this.cursor = String(rows[rows.length - 1].id);
    return rows.map((r) => ({ id: String(r.id), text: Buffer.isBuffer(r.text) ? r.text.toString('utf8') : String(r.text), hash: String(r.hash) }));
  }
}
