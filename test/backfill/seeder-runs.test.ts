import os from 'node:os';
import path from 'node:path';
import { runSeeder, type SeederResult } from '../../src/backfill';
import { seedLockName } from '../../src/backfill/schema-guard';
import { BACKFILL_SEEDER, SeedLedger } from '../../src/backfill/seed-ledger';
import { downgradeLockName, shardSlotName } from '../../src/backfill/shard-presence';
import { acquireLock } from '../../src/db/lock';
import { canonicalFingerprint, fingerprintOf } from '../../src/embedders';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { onFailpoint } from '../../src/util/failpoint';
import type { Logger } from '../../src/util/logger';
import { portableConfig, resetBackfill, upgrade, waitUntil } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/*
 * The seeder's I/O around its decisions (seed-decisions.ts, unit-tested in backfill/seed-decisions), in process on
 * a small table so that `npm run mutate` (stryker.config.mjs, the flows run) decides each mutant of runSeeder,
 * seedLock and seed in a second or two: the locks (busy, a downgrade, released after the run), the done probe, the
 * ledger's start and end, a failed setup, the checkpoint, the re-embed hand-over.
 */

const ROWS = 12;
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('seederruns');
  await createMemoriesTable(db.knex);
  await insertSampleMemories(db.knex, { count: ROWS, emptyRate: 0, duplicateRate: 0 });
  await upgrade(db);
});
afterAll(async () => db.drop());
let removeHook: (() => void) | undefined;
beforeEach(async () => resetBackfill(db));
afterEach(() => removeHook?.());

let said: string[] = [];
const logger: Logger = { info: () => undefined, warn: () => undefined, debug: (m) => said.push(m) };
beforeEach(() => (said = []));

const run = (extra: Partial<Parameters<typeof runSeeder>[0]> = {}): Promise<SeederResult> =>
  runSeeder({
    config: portableConfig(db),
    workers: 1,
    batchSize: 100,
    delaySeconds: 0,
    progress: 'none',
    logger,
    ...extra,
  });
const ledger = async () => (await new SeedLedger('sparse_vector_seeds').get(db.knex, BACKFILL_SEEDER))!;
/** A run that ran (was not skipped as busy or done). */
const ran = (r: SeederResult): SeederResult => {
  expect(r.skippedReason).toBeUndefined();
  return r;
};
const hasLedger = () => db.knex.schema.hasTable('sparse_vector_seeds');
const nullRows = async () => Number((await db.knex('memories').whereNull('sparse_embedding').count({ n: '*' }))[0].n);
const isFree = async (name: string) => Number((await db.knex.raw('SELECT IS_FREE_LOCK(?) AS f', [name]))[0][0].f) === 1;
const seedLock = (shard = '') => seedLockName(db.name, 'memories', shard);

test("another run holds the table's lock: 'busy' at once, said, nothing written, no ledger; a run frees its lock", async () => {
  const other = await acquireLock(db.connection, seedLock(), { timeoutSeconds: 0 });
  try {
    expect(await run()).toMatchObject({ ok: true, dryRun: false, skippedReason: 'busy', migrated: 0 });
    expect(said).toContain("Another backfill run is already working on table 'memories'; nothing to do here.");
    expect(await run({ dryRun: true })).toMatchObject({ dryRun: true, skippedReason: 'busy' });
    const shard = await acquireLock(db.connection, seedLock(':1/2'), { timeoutSeconds: 0 });
    await shard.release();
    ran(await run({ shard: { index: 1, count: 2 } }));
    expect(said).toContain("Another backfill run is already working on table 'memories'; nothing to do here.");
  } finally {
    await other.release();
  }
  await resetBackfill(db);
  expect(await hasLedger()).toBe(false);
  expect(ran(await run())).toMatchObject({ ok: true, migrated: ROWS });
  expect(await isFree(seedLock())).toBe(true);
});

test("a shard's own lock held: 'busy', said with the shard", async () => {
  const other = await acquireLock(db.connection, seedLock(':0/2'), { timeoutSeconds: 0 });
  try {
    expect(await run({ shard: { index: 0, count: 2 } })).toMatchObject({ skippedReason: 'busy', migrated: 0 });
    expect(said).toContain(
      "Another backfill run is already working on table 'memories' (shard 0/2); nothing to do here.",
    );
  } finally {
    await other.release();
  }
  expect(await hasLedger()).toBe(false);
});

test('a downgrade of the table running: a shard does not start (said) and frees its locks; a whole-table run goes on', async () => {
  const downgrade = await acquireLock(db.connection, downgradeLockName(db.name, 'memories'), { timeoutSeconds: 0 });
  try {
    expect(await run({ shard: { index: 0, count: 2 }, dryRun: true })).toMatchObject({
      ok: true,
      dryRun: true,
      skippedReason: 'busy',
    });
    expect(said).toContain(
      "A downgrade of table 'memories' is running; shard 0/2 does not start (the downgrade removes the column it would write).",
    );
    expect(await hasLedger()).toBe(false);
    expect(await isFree(seedLock(':0/2'))).toBe(true);
    expect(await isFree(shardSlotName(db.name, 'memories', 0))).toBe(true);
    expect(await run({ limit: 2 })).toMatchObject({ ok: true, migrated: 2 });
  } finally {
    await downgrade.release();
  }
  // No downgrade: the shard runs, and frees its seed lock and its presence lock at the end.
  expect(ran(await run({ shard: { index: 0, count: 2 } }))).toMatchObject({ ok: true });
  expect(await isFree(seedLock(':0/2'))).toBe(true);
  expect(await isFree(shardSlotName(db.name, 'memories', 0))).toBe(true);
});

test("'done' and no row waiting: 'already-done', said, nothing run; a row made NULL again is filled; --rerun runs", async () => {
  expect(await run()).toMatchObject({ ok: true, migrated: ROWS });
  expect(await ledger()).toMatchObject({ status: 'done', runs: 1 });
  said = [];
  expect(await run()).toMatchObject({ ok: true, dryRun: false, skippedReason: 'already-done', migrated: 0 });
  expect(said.some((m) => /is already done \(1 run, last finished .+\) and no row is waiting/.test(m))).toBe(true);
  expect(await ledger()).toMatchObject({ status: 'done', runs: 1 });
  await db.knex('memories').limit(1).update({ sparse_embedding: null });
  said = [];
  expect(ran(await run())).toMatchObject({ ok: true, migrated: 1 });
  expect(said.some((m) => m.includes('has rows to embed again (NULL sparse_embedding): running.'))).toBe(true);
  expect(await ledger()).toMatchObject({ status: 'done', runs: 2 });
  expect(ran(await run({ rerun: true }))).toMatchObject({ ok: true, migrated: 0 });
  expect(await ledger()).toMatchObject({ status: 'done', runs: 3 });
});

test('a dry run never touches the ledger, and is never skipped as done', async () => {
  expect(await run({ dryRun: true })).toMatchObject({ ok: true, dryRun: true, wouldWrite: { rows: ROWS } });
  expect(await hasLedger()).toBe(false);
  expect(await nullRows()).toBe(ROWS);
  await run();
  const before = await ledger();
  await db.knex('memories').limit(2).update({ sparse_embedding: null });
  expect(ran(await run({ dryRun: true }))).toMatchObject({ wouldWrite: { rows: 2 } });
  expect(await ledger()).toEqual(before);
});

test("a record left 'running' (the previous run's end not recorded) is said; an older ledger's missing embedder is recorded", async () => {
  await run({ limit: 3 });
  await db.knex('sparse_vector_seeds').update({ status: 'running', embedder_fingerprint: null });
  said = [];
  expect(await run()).toMatchObject({ ok: true, migrated: ROWS - 3 });
  expect(said).toContain(
    'The previous run did not record its end (it was killed or lost the server): continuing with the rows still NULL.',
  );
  expect(said.some((m) => m.startsWith('The seeds ledger records no embedder for the stored vectors'))).toBe(true);
  expect(await ledger()).toMatchObject({ status: 'done', embedder_fingerprint: expect.stringContaining('bm25') });
});

test("a run whose setup fails after the ledger's start: it throws; 'incomplete' with its error, a 'done' record stays done", async () => {
  const failuresFile = path.join(os.tmpdir(), 'no-such-dir-svm', 'sub', 'failures.jsonl');
  await expect(run({ failuresFile })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  expect(await ledger()).toMatchObject({ status: 'incomplete', migrated: 0, failed: 0 });
  expect((await ledger()).last_error).toContain('Cannot open the failures file');
  expect(await run()).toMatchObject({ ok: true, migrated: ROWS });
  await expect(run({ failuresFile, rerun: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  expect(await ledger()).toMatchObject({ status: 'done', runs: 3 });
  expect((await ledger()).last_error).toContain('Cannot open the failures file');
});

test('bad options are refused before the database is touched', async () => {
  await expect(run({ batchSize: 0 })).rejects.toThrow('batchSize=0 is not an integer between 1 and 10000.');
  expect(await hasLedger()).toBe(false);
});

test("the seed lock's connection refused (not busy): the run ends with that error, not as 'busy'", async () => {
  const wrong = new URL(db.url);
  wrong.password = 'not-the-password';
  const config = portableConfig(db, { databaseUrl: wrong.toString() });
  await expect(run({ knex: db.knex, config })).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
  // Without a knex of its own, the run's first statement finds it.
  await expect(run({ config })).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
  expect(await hasLedger()).toBe(false);
});

test('a stopped run keeps its checkpoint, the next one resumes after it and clears it; a shard neither reads nor writes one', async () => {
  const controller = new AbortController();
  let writes = 0;
  removeHook = onFailpoint('backfill:before-write', () => {
    if (++writes === 2) controller.abort(); // the first batch is written and its checkpoint offered
  });
  expect(await run({ batchSize: 3, signal: controller.signal })).toMatchObject({ stopped: true });
  removeHook();
  const kept = (await ledger()).resume_checkpoint as string;
  expect(JSON.parse(kept)).toMatchObject({ table: 'memories', column: 'sparse_embedding' });
  // A shard, stopped too: it ignores the checkpoint and writes none.
  const stop = new AbortController();
  removeHook = onFailpoint('backfill:before-write', () => stop.abort());
  const shard = await run({ batchSize: 1, shard: { index: 0, count: 2 }, signal: stop.signal });
  removeHook();
  expect(shard).toMatchObject({ stopped: true, read: { resumedAfter: undefined } });
  expect((await ledger()).resume_checkpoint).toBe(kept);
  const next = await run();
  expect(next).toMatchObject({ ok: true, read: { resumedAfter: JSON.parse(kept).after } });
  expect(await ledger()).toMatchObject({ status: 'done', resume_checkpoint: null });
  expect(await nullRows()).toBe(0);
});

test('a re-embed to another embedder is handed to the re-embed, which records the new embedder', async () => {
  expect(await run()).toMatchObject({ ok: true, migrated: ROWS });
  const other = new LocalSparseEmbedder({ threads: 0, indexSpace: 1000 });
  const r = await run({ reembed: true, embedder: other });
  expect(r.reembed).toBeDefined();
  expect(await ledger()).toMatchObject({ embedder_fingerprint: expect.stringContaining('1000'), reembed_to: null });
});

test("another embedder recorded between the run's read of the ledger and its start: refused at the start, nothing changed", async () => {
  expect(await run()).toMatchObject({ ok: true, migrated: ROWS });
  const other = canonicalFingerprint(fingerprintOf(new LocalSparseEmbedder({ threads: 0, indexSpace: 1000 })));
  // The test holds the ledger's row: the run reads the record (a plain read does not wait) and then waits at its
  // start (the upsert that locks the row); the other embedder is recorded meanwhile.
  const trx = await db.knex.transaction();
  try {
    await trx.raw('SELECT * FROM sparse_vector_seeds WHERE name = ? FOR UPDATE', [BACKFILL_SEEDER]);
    const outcome = run({ rerun: true }).catch((err: unknown) => err);
    await waitUntil(async () => {
      const [rows] = await db.knex.raw(
        "SELECT 1 FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO `sparse_vector_seeds`%'",
      );
      return rows.length > 0;
    });
    await trx.raw('UPDATE sparse_vector_seeds SET embedder_fingerprint = ? WHERE name = ?', [other, BACKFILL_SEEDER]);
    await trx.commit();
    expect(await outcome).toMatchObject({ code: 'EMBEDDER_CHANGED' });
  } finally {
    if (!trx.isCompleted()) await trx.rollback();
  }
  expect(await ledger()).toMatchObject({ status: 'done', runs: 1, embedder_fingerprint: other });
});
