import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { quoteIdentifier as q } from '../identifiers';
import { splitsTable } from '../options/read';
import { readStatsSnapshot, recordedCountSql, type StatsSnapshot } from '../stats/term-stats';
import type { Shard } from './options';

/*
 * Which rows the backfill is about, as SQL: the one place these conditions are written. The reader, the
 * start and end counts, the seeder's "done" probe and ledger write, and `verify` use them.
 */

/**
 * A text worth embedding: not NULL and not only whitespace (spaces, tabs, line breaks, and with a Unicode
 * column also the Unicode spaces such as U+3000: TRIM() alone removes only spaces). The regular expression
 * decides; it stops at the first non-space character, so a long text costs no more than a short one.
 *
 * Most texts start with a printable ASCII character, and those are taken without the regular expression,
 * which costs far more per row (a third of a 1M-row scan's time; docs/benchmarks.md, "ninth look"). The
 * test: the first character's code (ORD) is 33–126 and equals the first byte (ASCII), i.e. the character is
 * that one byte (a wide character set's is not: in utf16le U+3000, a space, has the code 48 and a first byte
 * of 0), and a single byte 33–126 is a printable ASCII character, never a space, in every character set.
 * Every other text (a space first, a Chinese character, an empty string, a wide character set) is left to
 * the regular expression, so the answer is the regular expression's in every case.
 */
export function hasText(column: string): string {
  return (
    `(${column} IS NOT NULL AND ((ORD(${column}) BETWEEN 33 AND 126 AND ASCII(${column}) = ORD(${column})) ` +
    `OR ${column} REGEXP '[^[:space:]]'))`
  );
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
  if (!splitsTable(shard)) return { sql: '', bindings: [] };
  const p = alias ? `${alias}.` : '';
  return { sql: ` AND MOD(CRC32(${p}${q(t.idColumn)}), ?) = ?`, bindings: [shard.count, shard.index] };
}

/** Eligible rows (in the shard): one COUNT, a full scan; used at the start and the end of a run. */
export async function countEligible(knex: Knex, t: SparseTarget, shard?: Shard): Promise<number> {
  const w = eligibleWhere(t, shard);
  const [rows] = (await knex.raw(`SELECT COUNT(*) AS n FROM ${q(t.table)} WHERE ${w.sql}`, w.bindings)) as [
    Array<{ n: number | string }>,
  ];
  return Number(rows[0].n); // COUNT(*) always returns one row
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

/** Whether any row has a vector (one probe that stops at the first). */
export async function hasStoredVector(knex: Knex, t: SparseTarget): Promise<boolean> {
  const [rows] = (await knex.raw(
    `SELECT 1 AS found FROM ${q(t.table)} WHERE ${q(t.sparseColumn)} IS NOT NULL LIMIT 1`,
  )) as [unknown[]];
  return rows.length > 0;
}

/** Rows with a NULL vector in the shard: those to embed, and those left NULL because their text is empty. */
export interface NullRows {
  eligible: number;
  empty: number;
}

/**
 * The figures a run starts from, in one scan of the table: the shard's NULL rows (`nullRows`, unless false),
 * and with `statsTable`, the term statistics' start-check snapshot (N and the stored vectors of the whole
 * table) read in the same statement, so in the same snapshot, as the check needs.
 */
export async function countAtStart(
  knex: Knex,
  t: SparseTarget,
  o: { shard?: Shard; statsTable?: string; nullRows?: boolean },
): Promise<{ nullRows?: NullRows; stats?: StatsSnapshot }> {
  const wantNulls = o.nullRows ?? true;
  if (!o.statsTable) return wantNulls ? { nullRows: await countNullRows(knex, t, o.shard) } : {};
  if (!wantNulls) return { stats: await readStatsSnapshot(knex, t, o.statsTable) };
  const inShard = shardCondition(t, o.shard);
  const nullInShard = `${q(t.sparseColumn)} IS NULL${inShard.sql}`;
  const text = hasText(q(t.textColumn));
  const n = recordedCountSql(o.statsTable);
  const [rows] = (await knex.raw(
    `SELECT COALESCE(SUM(CASE WHEN ${nullInShard} AND ${text} THEN 1 ELSE 0 END), 0) AS eligible, ` +
      `COALESCE(SUM(CASE WHEN ${nullInShard} THEN 1 ELSE 0 END), 0) AS nulls, ` +
      `COUNT(${q(t.sparseColumn)}) AS stored, ${n.sql} AS recorded FROM ${q(t.table)}`,
    [...inShard.bindings, ...inShard.bindings, ...n.bindings],
  )) as [Array<{ eligible: unknown; nulls: unknown; stored: unknown; recorded: unknown }>];
  const r = rows[0];
  return {
    nullRows: nullRowsOf(r),
    stats: { stored: Number(r.stored), recorded: r.recorded === null ? undefined : Number(r.recorded) },
  };
}

/** The NULL rows alone (see NullRows): one scan of the shard's NULL rows, split by whether they have a text. */
export async function countNullRows(knex: Knex, t: SparseTarget, shard?: Shard): Promise<NullRows> {
  const inShard = shardCondition(t, shard);
  const [rows] = (await knex.raw(
    `SELECT COALESCE(SUM(CASE WHEN ${hasText(q(t.textColumn))} THEN 1 ELSE 0 END), 0) AS eligible, ` +
      `COUNT(*) AS nulls FROM ${q(t.table)} WHERE ${q(t.sparseColumn)} IS NULL${inShard.sql}`,
    inShard.bindings,
  )) as [Array<{ eligible: unknown; nulls: unknown }>];
  return nullRowsOf(rows[0]);
}

/** A count's NULL rows, split: the text is tested once per row, the empty ones are the NULL rows less the eligible. */
function nullRowsOf(r: { eligible: unknown; nulls: unknown } | undefined): NullRows {
  const eligible = Number(r?.eligible ?? 0);
  return { eligible, empty: Number(r?.nulls ?? 0) - eligible };
}
