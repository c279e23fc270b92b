import type { Knex } from 'knex';
import type { SparseDialect, SparseTarget } from '../dialect/dialect';
import { perTableName, quoteIdentifier as q } from '../identifiers';
import { failpoint } from '../util/failpoint';

/**
 * Corpus statistics for query-side IDF: for each sparse index, the number of stored vectors that contain
 * it (document frequency), and the number of stored vectors counted (N, kept under DOCUMENT_COUNT_KEY).
 *
 *   CREATE TABLE sparse_vector_term_stats[_<table>] (term BIGINT NOT NULL PRIMARY KEY, df BIGINT NOT NULL)
 *
 * The backfill keeps it in step with what it writes: the rows' writes and the statistics of exactly the rows
 * written commit in one transaction (stats-writer.ts). Writes it does not see (the application deleting
 * rows, clearing or replacing vectors) are caught at the start of each run by comparing N with the number
 * of stored vectors: when they differ, the statistics are rebuilt from the stored vectors.
 */
export const DOCUMENT_COUNT_KEY = -1;

export function termStatsTable(table: string): string {
  return perTableName('sparse_vector_term_stats', table);
}

export async function termStatsExist(knex: Knex, statsTable: string): Promise<boolean> {
  const [rows] = (await knex.raw(
    'SELECT 1 AS ok FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [statsTable],
  )) as [unknown[]];
  return rows.length > 0;
}

export async function storedVectorCount(knex: Knex, t: SparseTarget): Promise<number> {
  const [rows] = (await knex.raw(`SELECT COUNT(*) AS n FROM ${q(t.table)} WHERE ${q(t.sparseColumn)} IS NOT NULL`)) as [
    Array<{ n: number | string }>,
  ];
  return Number(rows[0].n);
}

/** N as recorded in the statistics (undefined: no statistics table or no count yet). */
export async function recordedDocumentCount(knex: Knex, statsTable: string, lock = false): Promise<number | undefined> {
  const [rows] = (await knex.raw(`SELECT df FROM ${q(statsTable)} WHERE term = ?${lock ? ' FOR UPDATE' : ''}`, [
    DOCUMENT_COUNT_KEY,
  ])) as [Array<{ df: number | string }>];
  return rows.length ? Number(rows[0].df) : undefined;
}

export interface TermStatsPreparation {
  statsTable: string;
  /** Whether the statistics were rebuilt from the stored vectors (and why). */
  rebuilt?: 'created' | 'count-differed';
  documents: number;
}

/** N and the number of stored vectors, read in one statement (one snapshot): what the start check compares. */
export interface StatsSnapshot {
  /** N as recorded (undefined: no count yet). */
  recorded?: number;
  /** Rows of the table with a vector. */
  stored: number;
}

/** Creates the statistics table when it does not exist; returns whether it existed. */
export async function ensureTermStatsTable(knex: Knex, statsTable: string): Promise<boolean> {
  if (await termStatsExist(knex, statsTable)) return true;
  await knex.raw(`CREATE TABLE IF NOT EXISTS ${q(statsTable)} (term BIGINT NOT NULL PRIMARY KEY, df BIGINT NOT NULL)`);
  return false;
}

/** N as a scalar subquery, for a statement that reads it in the same snapshot as its count of stored vectors. */
export function recordedCountSql(statsTable: string): { sql: string; bindings: number[] } {
  return { sql: `(SELECT df FROM ${q(statsTable)} WHERE term = ?)`, bindings: [DOCUMENT_COUNT_KEY] };
}

/** The snapshot on its own: N and `COUNT(*)` of the stored vectors (a full scan). */
export async function readStatsSnapshot(knex: Knex, t: SparseTarget, statsTable: string): Promise<StatsSnapshot> {
  const n = recordedCountSql(statsTable);
  const [rows] = (await knex.raw(
    `SELECT ${n.sql} AS recorded, (SELECT COUNT(*) FROM ${q(t.table)} WHERE ${q(t.sparseColumn)} IS NOT NULL) AS stored`,
    n.bindings,
  )) as [Array<{ recorded: number | string | null; stored: number | string }>];
  return { recorded: rows[0].recorded === null ? undefined : Number(rows[0].recorded), stored: Number(rows[0].stored) };
}

/**
 * Called at the start of a backfill: creates the statistics table if needed and rebuilds it from the
 * stored vectors when its N differs from their number (a new table, rows deleted or vectors cleared by the
 * application, or vectors written by a version without statistics). `seen`: the table's existence and the
 * snapshot, when the caller read them already (the backfill reads the snapshot in its start count's scan).
 */
export async function prepareTermStats(
  knex: Knex,
  t: SparseTarget,
  dialect: SparseDialect,
  statsTable: string,
  seen?: { existed: boolean; snapshot: StatsSnapshot },
): Promise<TermStatsPreparation> {
  const existed = seen?.existed ?? (await ensureTermStatsTable(knex, statsTable));
  const snapshot = seen?.snapshot ?? (await readStatsSnapshot(knex, t, statsTable));
  if (existed && snapshot.recorded === snapshot.stored) return { statsTable, documents: snapshot.stored };
  const documents = await rebuildTermStats(knex, t, dialect, statsTable, snapshot);
  return { statsTable, rebuilt: existed ? 'count-differed' : 'created', documents };
}

/**
 * Recount the statistics from the stored vectors, in one transaction that first locks N's row: every
 * backfill write updates N in its own transaction, so no write commits while the rebuild runs and the
 * result counts each stored vector exactly once. Returns N.
 *
 * `seen`: a snapshot read before. When it found no stored vector and N is still what it read (no counted
 * write committed since: each one changes N), there is nothing to count and no scan is made; a vector the
 * application stored meanwhile is then caught by the next start check, as one stored just after a scan.
 */
export async function rebuildTermStats(
  knex: Knex,
  t: SparseTarget,
  dialect: SparseDialect,
  statsTable: string,
  seen?: StatsSnapshot,
): Promise<number> {
  await failpoint('stats:before-rebuild');
  return knex.transaction(async (trx) => {
    await trx.raw(`INSERT INTO ${q(statsTable)} (term, df) VALUES (?, 0) ON DUPLICATE KEY UPDATE df = df`, [
      DOCUMENT_COUNT_KEY,
    ]);
    const n = await recordedDocumentCount(trx, statsTable, true);
    const nothingStored = seen?.stored === 0 && n === (seen.recorded ?? 0);
    const counted = nothingStored
      ? { documents: 0, df: new Map<number, number>() }
      : await countStored(trx, t, dialect);
    await trx.raw(`DELETE FROM ${q(statsTable)} WHERE term <> ?`, [DOCUMENT_COUNT_KEY]);
    await upsertCounts(
      trx,
      statsTable,
      [...counted.df].sort((a, b) => a[0] - b[0]),
      false,
    );
    await trx.raw(`UPDATE ${q(statsTable)} SET df = ? WHERE term = ?`, [counted.documents, DOCUMENT_COUNT_KEY]);
    return counted.documents;
  });
}

/** The stored vectors and the document frequency of each index, read 2,000 rows at a time in id order. */
async function countStored(
  trx: Knex,
  t: SparseTarget,
  dialect: SparseDialect,
): Promise<{ documents: number; df: Map<number, number> }> {
  const df = new Map<number, number>();
  let documents = 0;
  let last: string | undefined;
  for (;;) {
    const after = last === undefined ? '' : `AND ${q(t.idColumn)} > ? `;
    const [rows] = (await trx.raw(
      `SELECT ${q(t.idColumn)} AS id, ${q(t.sparseColumn)} AS v FROM ${q(t.table)} WHERE ${q(t.sparseColumn)} IS NOT NULL ${after}ORDER BY ${q(t.idColumn)} LIMIT 2000`,
      last === undefined ? [] : [last],
    )) as [Array<{ id: string | number; v: unknown }>];
    if (!rows.length) return { documents, df };
    for (const row of rows) {
      documents++;
      for (const i of dialect.decode(row.v).indices) df.set(i, (df.get(i) ?? 0) + 1);
    }
    last = String(rows[rows.length - 1].id);
  }
}

/** INSERT ... ON DUPLICATE KEY UPDATE in chunks; `add` adds to existing counts, else replaces them. */
export async function upsertCounts(
  knex: Knex,
  statsTable: string,
  counts: ReadonlyArray<readonly [number, number]>,
  add = true,
): Promise<void> {
  for (let k = 0; k < counts.length; k += 5000) {
    const chunk = counts.slice(k, k + 5000);
    await knex.raw(
      `INSERT INTO ${q(statsTable)} (term, df) VALUES ${chunk.map(() => '(?, ?)').join(', ')} ON DUPLICATE KEY UPDATE df = ${add ? 'df + VALUES(df)' : 'VALUES(df)'}`,
      chunk.flat(),
    );
  }
}

/**
 * IDF weights for a query's indices, Lucene's form ln(1 + (N − df + 0.5)/(df + 0.5)); undefined when the
 * table has no statistics (then search uses the query's weights as they are).
 */
export async function readIdf(
  knex: Knex,
  statsTable: string,
  indices: ArrayLike<number>,
): Promise<Float64Array | undefined> {
  if (!(await termStatsExist(knex, statsTable))) return undefined;
  const keys = [DOCUMENT_COUNT_KEY, ...Array.from(indices)];
  const [rows] = (await knex.raw(
    `SELECT term, df FROM ${q(statsTable)} WHERE term IN (${keys.map(() => '?').join(', ')})`,
    keys,
  )) as [Array<{ term: number | string; df: number | string }>];
  const df = new Map(rows.map((r) => [Number(r.term), Number(r.df)]));
  const n = df.get(DOCUMENT_COUNT_KEY);
  if (!n) return undefined;
  return Float64Array.from(Array.from(indices), (i) => idf(n, df.get(i) ?? 0));
}

/** Lucene's BM25 IDF of a term in `df` of `n` documents (df is capped at n: statistics may lag deletions). */
export function idf(n: number, df: number): number {
  const f = Math.min(df, n);
  return Math.log(1 + (n - f + 0.5) / (f + 0.5));
}
