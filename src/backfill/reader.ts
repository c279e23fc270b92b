import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { quoteIdentifier as q } from '../identifiers';
import { columnInfo } from '../schema/inspect';
import type { Shard } from './options';
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
 * A text worth embedding: not NULL and not only whitespace (spaces, tabs, line breaks: TRIM() alone
 * removes only spaces). The regular expression stops at the first non-space character, so a long text
 * costs no more than a short one.
 */
export function hasText(column: string): string {
  return `(${column} IS NOT NULL AND ${column} REGEXP '[^[:space:]]')`;
}

/**
 * Rows still to embed: sparse column NULL and a text (see hasText), optionally one shard.
 *
 * Shard membership is `MOD(CRC32(id), n) = i`. CRC32 (of the id's decimal text) spreads Snowflake ids
 * evenly: their low bits are a per-millisecond sequence and a worker id, so `id MOD n` would put most
 * rows of a lightly loaded writer in the same few shards. The server computes it, so n processes split
 * the table with no coordination and no overlap, and every row belongs to exactly one shard.
 */
export function eligibleWhere(t: SparseTarget, shard?: Shard, alias = ''): { sql: string; bindings: number[] } {
  const p = alias ? `${alias}.` : '';
  const inShard = shardCondition(t, shard, alias);
  return {
    sql: `${p}${q(t.sparseColumn)} IS NULL AND ${hasText(`${p}${q(t.textColumn)}`)}${inShard.sql}`,
    bindings: inShard.bindings,
  };
}

/** ` AND MOD(CRC32(id), n) = i` for shard i of n (see eligibleWhere); nothing without a shard. */
export function shardCondition(t: SparseTarget, shard?: Shard, alias = ''): { sql: string; bindings: number[] } {
  if (!shard || shard.count <= 1) return { sql: '', bindings: [] };
  const p = alias ? `${alias}.` : '';
  return { sql: ` AND MOD(CRC32(${p}${q(t.idColumn)}), ?) = ?`, bindings: [shard.count, shard.index] };
}

/** Eligible rows (in the shard): one COUNT, a full scan; used at the start and the end of a run. */
export async function countEligible(knex: Knex, t: SparseTarget, shard?: Shard): Promise<number> {
  const w = eligibleWhere(t, shard);
  const [rows] = (await knex.raw(`SELECT COUNT(*) AS n FROM ${q(t.table)} WHERE ${w.sql}`, w.bindings)) as [
    Array<{ n: number | string }>,
  ];
  return Number(rows[0]?.n ?? 0);
}

/**
 * Whether any eligible row exists in the whole table: `SELECT 1 ... LIMIT 1`, which stops at the first one
 * (a COUNT would read them all). The check behind trusting a 'done' seeds ledger.
 */
export async function hasEligibleRow(knex: Knex, t: SparseTarget): Promise<boolean> {
  const w = eligibleWhere(t);
  const [rows] = (await knex.raw(`SELECT 1 AS found FROM ${q(t.table)} WHERE ${w.sql} LIMIT 1`, w.bindings)) as [
    unknown[],
  ];
  return rows.length > 0;
}

/**
 * Keyset pagination by primary key: `WHERE id > ? ORDER BY id LIMIT n`, never OFFSET, never all ids in
 * memory. One reader serves every worker, handing out consecutive key ranges (calls are serialised), so
 * no two workers ever take the same row.
 */
export class KeysetReader {
  private cursor: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly knex: Knex,
    private readonly t: SparseTarget,
    private readonly shard: Shard | undefined,
    /** From idPlaceholder(). */
    private readonly idParam = 'CAST(? AS SIGNED)',
  ) {}

  /** The last id handed out (for messages). */
  get position(): string | undefined {
    return this.cursor;
  }

  /**
   * The next `limit` eligible rows after the last ones handed out; [] at the end. (It reads until a read
   * comes back empty, so rows the application appends during the run are taken too.)
   */
  next(limit: number): Promise<PendingRow[]> {
    const run = this.chain.then(() => withDbRetry(() => this.read(limit)));
    this.chain = run.catch(() => undefined);
    return run;
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
