import { runBackfill, runSeeder } from '../../src/backfill';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { SparseVectorError } from '../../src/errors';
import { failingFor, portableConfig, resetBackfill, upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/*
 * How a run ends, in process (so `npm run mutate` sees it, see stryker.config.mjs): the seeds ledger says 'done'
 * only when no row is left, failed rows included; an error in a batch's embedding or in the last write of a slot
 * ends the run with that error (the worker slots pass every error on, not only the ones a next batch meets).
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('runend');
  await createMemoriesTable(db.knex);
  await insertSampleMemories(db.knex, { count: 30, emptyRate: 0 });
  await upgrade(db);
});
afterAll(async () => db.drop());
beforeEach(async () => {
  await db.knex.raw('DROP TRIGGER IF EXISTS refuse_all');
  await resetBackfill(db);
});

const status = async () => (await db.knex('sparse_vector_seeds').first('status'))?.status;
const options = { workers: 1, batchSize: 100, delaySeconds: 0, progress: 'none' as const };

test("rows that fail stay NULL and the ledger says 'incomplete', not 'done'", async () => {
  const ids = (await db.knex('memories').select('id').orderBy('id').limit(2)).map((r: { id: string }) => r.id);
  await db
    .knex('memories')
    .whereIn('id', ids)
    .update({ document: db.knex.raw("CONCAT(document, ' FAILME')") });
  try {
    const s = await runSeeder({
      ...options,
      batchSize: 10,
      config: portableConfig(db),
      embedder: failingFor('FAILME'),
    });
    expect(s).toMatchObject({ failed: 2, migrated: 28 });
    expect(s.error).toBeUndefined();
    expect(await status()).toBe('incomplete');
  } finally {
    await db
      .knex('memories')
      .whereIn('id', ids)
      .update({ document: db.knex.raw("REPLACE(document, ' FAILME', '')") });
  }
  // Once those rows embed, the next run records done.
  const again = await runSeeder({ ...options, config: portableConfig(db) });
  expect(again).toMatchObject({ failed: 0, migrated: 2 });
  expect(await status()).toBe('done');
});

test('the only write of the run refused by the server: the run ends with that error, ledger incomplete', async () => {
  // One batch, one worker, a limited run (no final sweep): no later batch waits for this write, so only the end
  // of the run can see its failure.
  await db.knex.raw(
    'CREATE TRIGGER refuse_all BEFORE UPDATE ON memories FOR EACH ROW BEGIN ' +
      "SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1290, MESSAGE_TEXT = 'refused by the stand-in trigger'; END",
  );
  const s = await runSeeder({ ...options, limit: 50, config: portableConfig(db) });
  expect(s.ok).toBe(false);
  expect(s.error?.message).toContain('refused by the stand-in trigger');
  expect(await status()).toBe('incomplete');
});

test('an embedder error that ends the run (the key refused) ends it with that error, nothing written', async () => {
  const inner = new LocalSparseEmbedder();
  const refused = {
    ...inner,
    provider: inner.provider,
    model: inner.model,
    maxBatchSize: inner.maxBatchSize,
    maxIndex: inner.maxIndex,
    fingerprint: inner.fingerprint,
    embedDocuments: async () => {
      throw new SparseVectorError('EMBEDDER_AUTH', 'the key was refused (test)');
    },
    embedQuery: (t: string) => inner.embedQuery(t),
  };
  const s = await runSeeder({ ...options, config: portableConfig(db), embedder: refused });
  expect(s.ok).toBe(false);
  expect((s.error as SparseVectorError | undefined)?.code).toBe('EMBEDDER_AUTH');
  expect(s.migrated).toBe(0);
  expect(await status()).toBe('incomplete');
});

test("as many rows left as failed (a limited run): the ledger says 'incomplete'", async () => {
  // 30 rows, the first failing, a limit of 29: one row failed and one row never read.
  const [first] = await db.knex('memories').select('id').orderBy('id').limit(1);
  await db
    .knex('memories')
    .where({ id: first.id })
    .update({ document: db.knex.raw("CONCAT(document, ' FAILME')") });
  try {
    const s = await runSeeder({
      ...options,
      batchSize: 10,
      limit: 29,
      config: portableConfig(db),
      embedder: failingFor('FAILME'),
    });
    expect(s).toMatchObject({ failed: 1, migrated: 28, remaining: 1 });
    expect(await status()).toBe('incomplete');
  } finally {
    await db
      .knex('memories')
      .where({ id: first.id })
      .update({ document: db.knex.raw("REPLACE(document, ' FAILME', '')") });
  }
});

test("the seed lock's own connection refused (not busy): the run ends with that error, not as 'busy'", async () => {
  // The run's knex works; the lock's dedicated connection (from the configured URL) is refused.
  const wrong = new URL(db.url);
  wrong.password = 'not-the-password';
  const config = portableConfig(db, { databaseUrl: wrong.toString() });
  const outcome = await runSeeder({ ...options, knex: db.knex, config }).then(
    (r) => ({ result: r }),
    (err: unknown) => ({ err }),
  );
  const error = 'err' in outcome ? outcome.err : outcome.result.error;
  expect(error).toMatchObject({ code: 'CONNECTION_FAILED' });
  expect('result' in outcome ? outcome.result.skippedReason : undefined).toBeUndefined();
  expect(Number((await db.knex('memories').whereNotNull('sparse_embedding').count({ n: '*' }))[0].n)).toBe(0);
});

test('each checkpoint says what is left: total - processed at that moment, down to 0 at the last batch', async () => {
  const seen: Array<{ after: string; remaining: number }> = [];
  const s = await runBackfill({
    ...options,
    batchSize: 7,
    config: portableConfig(db),
    onCheckpoint: (c) => seen.push(c),
  });
  expect(s).toMatchObject({ ok: true, migrated: 30, failed: 0 });
  // 30 rows in batches of 7, one worker: a checkpoint after each batch, in order.
  expect(seen.map((c) => c.remaining)).toEqual([23, 16, 9, 2, 0]);
  const ids = seen.map((c) => BigInt(c.after));
  expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
});
