import { runSeeder } from '../../src/backfill';
import { SeedLedger, type CheckpointRecord } from '../../src/backfill/seed-ledger';
import { DOCUMENT_COUNT_KEY, termStatsTable } from '../../src/stats/term-stats';
import { startAt } from '../support/cli';
import { captureStream, checkTable, jsonLines, portableConfig, upgrade, waitUntil } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const SEEDS = 'sparse_vector_seeds';

/** The checkpoint the ledger holds (undefined: none). */
async function storedCheckpoint(db: TestDatabase): Promise<CheckpointRecord | undefined> {
  const row = await db.knex(SEEDS).first('resume_checkpoint');
  return row?.resume_checkpoint ? JSON.parse(row.resume_checkpoint) : undefined;
}

describe('resume from the keyset checkpoint in the seeds ledger', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('resumecp');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 400, duplicateRate: 0 });
    await upgrade(db);
  });
  afterEach(async () => db.drop());

  test('killed (SIGKILL) at the 10th of ~20 checkpoints, re-run: reads after the checkpoint, sweeps a row made NULL behind it, every row right once', async () => {
    const before = await checkTable(db);
    // 20 batches of 20 rows, one worker: every write from the 11th on is held at its failpoint, so the run
    // stands at ~50% (rows 1-200 written, none after) for as long as the test wants, whatever the load.
    const [[tenth]] = await db.knex.raw(
      "SELECT CAST(id AS CHAR) AS id FROM memories WHERE sparse_embedding IS NULL AND document REGEXP '[^[:space:]]' ORDER BY id LIMIT 1 OFFSET 199",
    );
    const { child, done, reached } = startAt(
      'backfill:before-write@11',
      ['seed', '--workers', '1', '--batch-size', '20', '--delay', '0', '--progress', 'none'],
      db.env({ SPARSE_VECTOR_STORAGE: 'json', OCEANBASE_COLLECTION: 'memories' }),
    );
    await reached;
    // The checkpoint saver runs on while the write is held: wait until it has saved the 10th batch's end.
    await waitUntil(async () => (await storedCheckpoint(db))?.after === String(tenth.id));
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');

    const cp = (await storedCheckpoint(db))!;
    expect(cp).toMatchObject({ table: 'memories', column: 'sparse_embedding' });
    const behind = await checkTable(db);
    expect(behind.wrong).toEqual([]);
    expect(behind.nullEligible).toBeGreaterThan(0); // killed mid-run
    // Every eligible row up to the checkpoint is done ...
    const [[{ n: nullBehind }]] = await db.knex.raw(
      "SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NULL AND document REGEXP '[^[:space:]]' AND id <= CAST(? AS SIGNED)",
      [cp.after],
    );
    expect(Number(nullBehind)).toBe(0);
    // ... and the application empties one of them: only the final sweep can find it.
    const [[victim]] = await db.knex.raw(
      'SELECT id FROM memories WHERE sparse_embedding IS NOT NULL AND id < CAST(? AS SIGNED) ORDER BY id LIMIT 1 OFFSET 5',
      [cp.after],
    );
    await db.knex('memories').where({ id: victim.id }).update({ sparse_embedding: null });
    const [[{ n: nullAhead }]] = await db.knex.raw(
      "SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NULL AND document REGEXP '[^[:space:]]' AND id > CAST(? AS SIGNED)",
      [cp.after],
    );

    const out = captureStream();
    const s = await runSeeder({
      config: portableConfig(db),
      workers: 2,
      batchSize: 20,
      delaySeconds: 0,
      progress: 'json',
      out,
    });
    expect(s).toMatchObject({ ok: true, failed: 0, remaining: 0 });
    // The main pass read only the rows after the checkpoint; the sweep found exactly the emptied row.
    expect(s.read).toEqual({ resumedAfter: cp.after, main: Number(nullAhead), sweep: 1 });
    expect(s.migrated).toBe(Number(nullAhead) + 1);
    // No count at start: the progress total is the checkpoint's figure.
    const start = jsonLines(out.text).find((e) => e.event === 'start');
    expect(start).toMatchObject({ total: cp.remaining, resumedAfter: cp.after });
    // Every row right, each vector counted once in the term statistics, and the checkpoint cleared.
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0, embedded: before.nullEligible });
    const stats = await db.knex(termStatsTable('memories')).where({ term: DOCUMENT_COUNT_KEY }).first('df');
    expect(Number(stats.df)).toBe(before.nullEligible);
    expect(await storedCheckpoint(db)).toBeUndefined();
    expect((await db.knex(SEEDS).first('status')).status).toBe('done');
  });

  test('a ledger made before the checkpoint column gets it once (idempotent), and runs use it', async () => {
    await db.knex.raw(
      `CREATE TABLE ${SEEDS} (name VARCHAR(255) NOT NULL PRIMARY KEY, status VARCHAR(16) NOT NULL, runs INT NOT NULL DEFAULT 0, ` +
        'migrated BIGINT NOT NULL DEFAULT 0, failed BIGINT NOT NULL DEFAULT 0, last_started_at DATETIME NULL, ' +
        'last_finished_at DATETIME NULL, last_error TEXT NULL)',
    );
    const ledger = new SeedLedger(SEEDS);
    await ledger.ensureCheckpointColumn(db.knex);
    await ledger.ensureCheckpointColumn(db.knex); // again: nothing to do
    expect(await db.knex.schema.hasColumn(SEEDS, 'resume_checkpoint')).toBe(true);
    const s = await runSeeder({
      config: portableConfig(db),
      workers: 2,
      batchSize: 50,
      delaySeconds: 0,
      progress: 'none',
    });
    expect(s).toMatchObject({ ok: true, remaining: 0, read: { main: s.migrated, sweep: 0 } });
    expect(await storedCheckpoint(db)).toBeUndefined(); // cleared at the end
  });
});
