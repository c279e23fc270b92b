/** A size's scratch table, its staged vectors, and the two runs a round compares: the ceiling and a backfill. */
import type { Knex } from 'knex';
import { LocalSparseEmbedder } from '../src/embedders/local';
import { migrateToLatest } from '../src/migrator/migrate-on-boot';
import { toPortableJson } from '../src/sparse/sparse-vector';
import { silentLogger } from '../src/util/logger';
import { createMemoriesTable, insertSampleMemories, type TextMix } from '../testing/sample-memories';
import { scratchDatabase } from '../testing/scratch-database';
import { child } from './child-run';
import { BATCH, BATCH_CHARS, serverCpu, steal, WORKERS } from './flags';
import { say, timed } from './report';
import { waitForPurge } from './server-state';

export async function countEmbedded(knex: Knex): Promise<number> {
  const [r] = await knex.raw('SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NOT NULL');
  return Number(r[0].n);
}

/** Fill a scratch table of `n` rows of the mix, upgrade it, and precompute every vector into a staging table. */
export async function prepare(baseUrl: string, n: number, mix: TextMix, label: string) {
  const { url, knex, drop } = await scratchDatabase(baseUrl, `svm_bench_${mix}_${label.toLowerCase()}`);
  await createMemoriesTable(knex);
  const [, genS] = await timed(() => insertSampleMemories(knex, { count: n, chunk: 2000, mix }));
  say(`generated ${n} rows (${mix} mix) in ${genS.toFixed(1)} s`);
  const [eligibleRows] = await knex.raw(
    "SELECT COUNT(*) AS n, AVG(CHAR_LENGTH(document)) AS chars FROM memories WHERE document IS NOT NULL AND TRIM(document) <> ''",
  );
  const [up, ddlS] = await timed(() => migrateToLatest({ databaseUrl: url, storage: 'json', logger: silentLogger }));
  if (!up.ok) throw up.error ?? new Error('the upgrade failed');
  const embedder = new LocalSparseEmbedder();
  await knex.raw('CREATE TABLE bench_staging (id BIGINT NOT NULL PRIMARY KEY, v LONGTEXT NOT NULL)');
  let last = '0';
  for (;;) {
    const [batch] = await knex.raw(
      "SELECT id, document FROM memories WHERE id > CAST(? AS SIGNED) AND document IS NOT NULL AND TRIM(document) <> '' ORDER BY id LIMIT 5000",
      [last],
    );
    if (!batch.length) break;
    last = String(batch[batch.length - 1].id);
    await knex('bench_staging').insert(
      batch.map((r: { id: string; document: string }) => ({
        id: r.id,
        v: toPortableJson(embedder.embed(r.document, 'document')),
      })),
    );
  }
  return { url, knex, drop, eligible: Number(eligibleRows[0].n), avgChars: Number(eligibleRows[0].chars), ddlS };
}

/** Every vector back to NULL, and the server's purge of the old versions done (so no run pays for it). */
export async function resetTable(knex: Knex): Promise<void> {
  await knex.raw('UPDATE memories SET sparse_embedding = NULL');
  await waitForPurge(knex);
}

/** The arguments of a local-embedder backfill child at the bench's settings (flags.ts), plus `extra`. */
export function localRun(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { databaseUrl: url, workers: WORKERS, batchSize: BATCH, batchChars: BATCH_CHARS || undefined, ...extra };
}

/** The write ceiling: the staged vectors applied by one UPDATE ... JOIN (rows/s), and the server's CPU for it. */
export async function ceilingOnce(
  knex: Knex,
  eligible: number,
): Promise<{ rate: number; serverUsPerRow?: number; stolen?: number }> {
  await resetTable(knex);
  const cpu0 = serverCpu?.();
  const stolen = steal?.start();
  const [, s] = await timed(() =>
    knex.raw('UPDATE memories m JOIN bench_staging st ON m.id = st.id SET m.sparse_embedding = st.v'),
  );
  const cpu = cpu0 === undefined ? undefined : ((serverCpu!() - cpu0) * 1e6) / eligible;
  const share = stolen?.();
  await knex.raw('UPDATE memories SET sparse_embedding = NULL');
  return { rate: eligible / s, serverUsPerRow: cpu, stolen: share };
}

/** One backfill child from all-NULL; with the server's CPU per row written. */
export async function backfillOnce(url: string, eligible: number, extra: Record<string, unknown> = {}) {
  const cpu0 = serverCpu?.();
  const stolen = steal?.start();
  const r = (await child(localRun(url, extra)))!;
  const serverUsPerRow = cpu0 === undefined ? undefined : ((serverCpu!() - cpu0) * 1e6) / eligible;
  return { ...r, rate: r.migrated / r.seconds, serverUsPerRow, stolen: stolen?.() };
}
