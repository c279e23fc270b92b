import type { Knex } from 'knex';
import { KeysetReader } from '../src/backfill/reader';
import type { BatchShape } from '../src/backfill/write-shape';
import { writeBatched } from '../src/backfill/writer';
import type { SparseTarget } from '../src/dialect/dialect';
import { quoteIdentifier as q } from '../src/identifiers';
import { LocalSparseEmbedder } from '../src/embedders/local';
import { migrateToLatest } from '../src/migrator/migrate-on-boot';
import { toPortableJson } from '../src/sparse/sparse-vector';
import { silentLogger } from '../src/util/logger';
import { createMemoriesTable, insertSampleMemories, type TextMix } from '../testing/sample-memories';
import { scratchDatabase } from '../testing/scratch-database';

/*
 * The candidate statement forms of the backfill's batched write, measured against each other (server CPU
 * per row, from /proc of the private server) and against the write ceiling. Each writes the batch's
 * (id, hash, value) rows under the writer's guard (still NULL, text still has the embedded hash):
 *
 * - 'union': the writer's plain shape (src/backfill/write-shape.ts), a derived table of SELECT ? … UNION ALL …,
 *   the one every server takes (OceanBase, seekdb, MySQL);
 * - 'values': the same with MariaDB's VALUES list after the first row (one query block for the batch);
 * - 'values-range': the same, the table first over the batch's id range (STRAIGHT_JOIN … id BETWEEN …);
 * - 'lookup': the writer's shape on MariaDB for a whole-table run (src/backfill/lookup-write.ts), no join: a
 *   prepared single-table UPDATE over the id range that finds each row's values by INTERVAL over the
 *   batch's sorted ids;
 * - 'json-table': the batch as ONE JSON parameter, JOIN JSON_TABLE(?, '$[*]' COLUMNS (…)) (portable mode,
 *   MariaDB >= 10.6 / MySQL >= 8.0.4);
 * - 'temp-table': a session temporary table filled by one multi-row INSERT, then the UPDATE … JOIN.
 */
type BatchedForm = 'union' | 'values' | 'values-range' | 'lookup' | 'json-table' | 'temp-table';

interface FormRow {
  id: string;
  hash: string;
  value: string;
}

/** The guard and the assignment shared by every form; `x` is the batch's rows (id, h, v). */
function updateJoin(t: SparseTarget, source: string): string {
  return (
    `UPDATE ${q(t.table)} AS m JOIN ${source} ON m.${q(t.idColumn)} = x.id ` +
    `SET m.${q(t.sparseColumn)} = x.v ` +
    `WHERE m.${q(t.sparseColumn)} IS NULL AND MD5(m.${q(t.textColumn)}) = x.h`
  );
}

/** The batch as one JSON array of [id, hash, value] (ids as strings: BIGINTs above 2^53 stay exact). */
function jsonTableStatement(
  t: SparseTarget,
  items: readonly FormRow[],
  idType: string,
): { sql: string; bindings: string[] } {
  const source =
    `JSON_TABLE(?, '$[*]' COLUMNS (id ${idType} PATH '$[0]', h CHAR(32) PATH '$[1]', ` +
    `v LONGTEXT PATH '$[2]')) AS x`;
  return { sql: updateJoin(t, source), bindings: [JSON.stringify(items.map((w) => [w.id, w.hash, w.value]))] };
}

const TEMP_TABLE = 'sparse_vector_write_batch';

/**
 * The temporary-table form, on one connection: in the caller's transaction when `knex` is one (never a
 * second pool connection while the caller holds one: with every worker in a transaction that would
 * deadlock the pool), else in a transaction of its own.
 */
async function tempTableWrite(
  knex: Knex,
  t: SparseTarget,
  items: readonly FormRow[],
  idParam: string,
): Promise<number> {
  const run = async (trx: Knex): Promise<number> => {
    await trx.raw(
      `CREATE TEMPORARY TABLE IF NOT EXISTS ${q(TEMP_TABLE)} (id BIGINT NOT NULL PRIMARY KEY, h CHAR(32) NOT NULL, v LONGTEXT NOT NULL)`,
    );
    await trx.raw(`DELETE FROM ${q(TEMP_TABLE)}`);
    await trx.raw(
      `INSERT INTO ${q(TEMP_TABLE)} (id, h, v) VALUES ${items.map(() => `(${idParam}, ?, ?)`).join(', ')}`,
      items.flatMap((w) => [w.id, w.hash, w.value]),
    );
    const [result] = (await trx.raw(updateJoin(t, `${q(TEMP_TABLE)} AS x`))) as [{ affectedRows: number }];
    await trx.raw(`DELETE FROM ${q(TEMP_TABLE)}`);
    return Number(result.affectedRows ?? 0);
  };
  return (knex as Knex & { isTransaction?: boolean }).isTransaction ? run(knex) : knex.transaction(run);
}

const T: SparseTarget = {
  table: 'memories',
  idColumn: 'id',
  textColumn: 'document',
  sparseColumn: 'sparse_embedding',
  sparseIndex: 'sparse_embedding_idx',
};
const ID = 'CAST(? AS SIGNED)';
/** The forms that are shapes of the writer's own statement (src/backfill/write-shape.ts). */
const WRITER_SHAPES: Partial<Record<BatchedForm, BatchShape>> = {
  union: { rows: 'union', range: false },
  values: { rows: 'values', range: false },
  'values-range': { rows: 'values', range: true },
  lookup: { rows: 'lookup', range: true },
};
export const FORMS: readonly BatchedForm[] = ['union', 'values', 'values-range', 'lookup', 'json-table', 'temp-table'];

export interface FormFigures {
  /** Server CPU per row written, µs: median of the repeats, and min/max. */
  serverUsPerRow: { median: number; min: number; max: number };
  /** Node CPU per row (building and sending the statements), µs, median. */
  nodeUsPerRow: number;
  /** Wall time per row on one connection, µs, median. */
  wallUsPerRow: number;
}

/** One form's write of every row, batch by batch, on one connection: server CPU, Node CPU and wall time. */
async function writeAll(
  knex: Knex,
  form: BatchedForm | 'ceiling',
  rows: readonly FormRow[],
  batch: number,
  serverCpu: () => number,
): Promise<{ server: number; node: number; wall: number }> {
  await knex.raw('UPDATE memories SET sparse_embedding = NULL');
  const s0 = serverCpu();
  const n0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  let written = 0;
  if (form === 'ceiling') {
    const [r] = await knex.raw('UPDATE memories m JOIN bench_staging s ON m.id = s.id SET m.sparse_embedding = s.v');
    written = Number(r.affectedRows);
  }
  for (let i = 0; form !== 'ceiling' && i < rows.length; i += batch) {
    const chunk = rows.slice(i, i + batch);
    if (form === 'temp-table') written += await tempTableWrite(knex, T, chunk, ID);
    else if (WRITER_SHAPES[form]) written += await writeBatched(knex, T, chunk, ID, WRITER_SHAPES[form]);
    else {
      const st = jsonTableStatement(T, chunk, 'BIGINT');
      const [r] = await knex.raw(st.sql, st.bindings);
      written += Number(r.affectedRows);
    }
  }
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  const n = process.cpuUsage(n0);
  const server = serverCpu() - s0;
  if (written !== rows.length) throw new Error(`${form}: wrote ${written} of ${rows.length} rows`);
  return { server, node: (n.user + n.system) / 1e6, wall };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Server CPU per row of each batched write form (and of the write ceiling, UPDATE … JOIN a staging table),
 * on `rows` rows of the given text mix, batches of `batch`, `repeats` rounds with the forms alternating.
 */
export async function benchWriteForms(
  baseUrl: string,
  serverCpu: () => number,
  o: { rows: number; batch: number; repeats: number; mix: TextMix },
): Promise<Record<BatchedForm | 'ceiling', FormFigures>> {
  const { url, knex, drop } = await scratchDatabase(baseUrl, `svm_bench_forms_${o.mix}`);
  try {
    await createMemoriesTable(knex);
    await insertSampleMemories(knex, { count: o.rows, chunk: 2000, mix: o.mix, emptyRate: 0, duplicateRate: 0 });
    const up = await migrateToLatest({ databaseUrl: url, storage: 'json', logger: silentLogger });
    if (!up.ok) throw up.error ?? new Error('the upgrade failed');
    const embedder = new LocalSparseEmbedder();
    const pending = await new KeysetReader(knex, T, undefined, ID).next(o.rows);
    const rows = pending.map((r) => ({
      id: r.id,
      hash: r.hash,
      value: toPortableJson(embedder.embed(r.text, 'document')),
    }));
    await knex.raw('CREATE TABLE bench_staging (id BIGINT NOT NULL PRIMARY KEY, v LONGTEXT NOT NULL)');
    for (let i = 0; i < rows.length; i += 2000)
      await knex('bench_staging').insert(rows.slice(i, i + 2000).map((r) => ({ id: r.id, v: r.value })));
    const all = [...FORMS, 'ceiling'] as const;
    const runs = new Map<string, Array<{ server: number; node: number; wall: number }>>();
    for (let r = 0; r < o.repeats + 1; r++) {
      for (const form of all) {
        const m = await writeAll(knex, form, rows, o.batch, serverCpu);
        if (r > 0) runs.set(form, [...(runs.get(form) ?? []), m]); // round 0 warms the buffer pool
      }
    }
    const out = {} as Record<BatchedForm | 'ceiling', FormFigures>;
    for (const form of all) {
      const per = (k: 'server' | 'node' | 'wall') => runs.get(form)!.map((m) => (m[k] * 1e6) / rows.length);
      const s = per('server');
      out[form] = {
        serverUsPerRow: { median: median(s), min: Math.min(...s), max: Math.max(...s) },
        nodeUsPerRow: median(per('node')),
        wallUsPerRow: median(per('wall')),
      };
    }
    return out;
  } finally {
    await drop();
  }
}
