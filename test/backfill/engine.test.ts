import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBackfill, runSeeder } from '../../src/backfill';
import { SeedLedger } from '../../src/backfill/seed-ledger';
import { sampleId } from '../../testing/sample-memories';
import {
  captureStream,
  checkTable,
  failingFor,
  jsonLines,
  portableConfig,
  resetBackfill,
  slowed,
  upgrade,
} from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

describe('backfill engine on a real server (portable mode)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('backfill');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 3000, emptyRate: 0.02 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());
  beforeEach(async () => resetBackfill(db)); // each test starts with every vector NULL (any order)

  test('the backfill refuses to run before the schema upgrade, with the command to run', async () => {
    const other = await createTestDatabase('noupgrade');
    try {
      await createMemoriesTable(other.knex);
      await expect(runBackfill({ config: portableConfig(other), progress: 'none' })).rejects.toThrow(
        "Table 'memories' has no JSON column 'sparse_embedding' yet.",
      );
    } finally {
      await other.drop();
    }
  });

  test('dry run reads and embeds 100 rows, writes nothing, and says so', async () => {
    const out = captureStream();
    const s = await runBackfill({
      config: portableConfig(db),
      dryRun: true,
      workers: 2,
      delaySeconds: 0,
      progress: 'plain',
      out,
    });
    expect(s).toMatchObject({ dryRun: true, migrated: 100, failed: 0, total: 100 });
    expect(out.text).toContain('[DRY RUN] Mode enabled - will only test with 100 records (nothing is written)');
    expect(out.text).toMatch(
      /\[DRY RUN\] Embedded 100 rows in .* rec\/s\); would write 100 vectors\. Nothing was written\./,
    );
    const c = await checkTable(db);
    expect(c.embedded).toBe(0);
  });

  test('full backfill with 4 workers: every row gets the embedding of its own text, empty texts stay NULL', async () => {
    const before = await checkTable(db);
    const progressEvents: number[] = [];
    const s = await runSeeder({
      config: portableConfig(db),
      workers: 4,
      batchSize: 100,
      delaySeconds: 0,
      progress: 'none',
      onProgress: (p) => progressEvents.push(p.processed),
    });
    expect(s.ok).toBe(true);
    expect(s.migrated).toBe(before.nullEligible);
    // No row was taken twice (a second write of a row finds it no longer NULL and counts as changed).
    expect(s).toMatchObject({
      changed: 0,
      failed: 0,
      skipped: before.nullEmpty,
      remaining: 0,
      total: before.nullEligible,
    });
    expect(s.workers).toHaveLength(4);
    expect(s.workers.reduce((a, w) => a + w.migrated, 0)).toBe(s.migrated);
    expect(s.workers.filter((w) => w.migrated > 0).length).toBe(4); // round-robin over the worker slots
    expect(progressEvents[progressEvents.length - 1]).toBe(s.migrated);
    const after = await checkTable(db);
    expect(after).toMatchObject({
      wrong: [],
      nullEligible: 0,
      nullEmpty: before.nullEmpty,
      embedded: before.nullEligible,
    });
    expect(before.nullEmpty).toBeGreaterThan(0);
    const ledger = await new SeedLedger('sparse_vector_seeds').get(db.knex, '20250601000100_backfill_sparse_vector');
    expect(ledger).toMatchObject({ status: 'done', migrated: before.nullEligible, failed: 0, runs: 1 });
    // Done is a cache: with nothing waiting a plain run does nothing; rows that became NULL later are embedded.
    const idleOut = captureStream();
    const idle = await runSeeder({ config: portableConfig(db), progress: 'plain', out: idleOut });
    expect(idle).toMatchObject({ skippedReason: 'already-done', migrated: 0 });
    expect(idleOut.text).toContain('is already done (1 run, last finished ');
    expect(idleOut.text).toContain('and no row is waiting: nothing to do.');
    await db
      .knex('memories')
      .whereIn('id', [sampleId(5), sampleId(6)])
      .update({ sparse_embedding: null });
    const again = await runSeeder({ config: portableConfig(db), progress: 'none', delaySeconds: 0 });
    expect(again).toMatchObject({ ok: true, migrated: 2, remaining: 0 });
    expect(again.skippedReason).toBeUndefined();
    expect((await checkTable(db)).wrong).toEqual([]);
  });
});

describe('failures are isolated to the rows that cause them', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('failures');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 400, emptyRate: 0 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());

  test('injected embedder failures: exactly the bad rows stay NULL, are listed, and the next run retries them', async () => {
    const poisoned = [sampleId(7), sampleId(150), sampleId(151), sampleId(399)];
    for (const id of poisoned)
      await db
        .knex('memories')
        .where({ id })
        .update({ document: db.knex.raw("CONCAT(document, ' POISON')") });
    const file = path.join(os.tmpdir(), `svm-failures-${process.pid}.jsonl`);
    fs.rmSync(file, { force: true });
    const out = captureStream();
    const s = await runSeeder({
      config: portableConfig(db),
      embedder: failingFor('POISON'),
      workers: 3,
      batchSize: 50,
      delaySeconds: 0,
      failuresFile: file,
      progress: 'plain',
      out,
      embedAttempts: 2,
    });
    expect(s.ok).toBe(false);
    expect(s.failed).toBe(4);
    expect(s.migrated).toBe(396);
    expect(s.failures.map((f) => f.id).sort()).toEqual([...poisoned].sort());
    expect(s.failures[0].reason).toBe('refused a text containing POISON');
    const fromFile = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id)
      .sort();
    expect(fromFile).toEqual([...poisoned].sort());
    expect(out.text).toContain('Failed rows (they stay NULL and are retried by the next run)');
    expect(out.text).toContain('To resume, run the same command again: rows still NULL are picked up.');
    const nulls = (await db.knex('memories').whereNull('sparse_embedding').select('id'))
      .map((r: { id: string }) => String(r.id))
      .sort();
    expect(nulls).toEqual([...poisoned].sort());
    const ledger = await new SeedLedger('sparse_vector_seeds').get(db.knex, '20250601000100_backfill_sparse_vector');
    expect(ledger?.status).toBe('incomplete');

    // --json: the failing batches are announced (batch-failed, then split) before the rows are isolated.
    const json = captureStream();
    const dry = await runBackfill({
      config: portableConfig(db),
      embedder: failingFor('POISON'),
      dryRun: true,
      dryRunLimit: 400,
      batchSize: 50,
      delaySeconds: 0,
      progress: 'json',
      out: json,
      embedAttempts: 1,
    });
    expect(dry).toMatchObject({ dryRun: true, failed: 4, migrated: 0, total: 4 }); // only the 4 bad rows are still NULL
    const events = jsonLines(json.text);
    const batchFailed = events.filter((e) => e.event === 'batch-failed');
    expect(batchFailed.length).toBeGreaterThanOrEqual(3);
    expect(batchFailed[0]).toMatchObject({
      stage: 'embed',
      rows: 4,
      next: 'split',
      reason: 'refused a text containing POISON',
    });
    expect(
      events
        .filter((e) => e.event === 'row-failed')
        .map((e) => e.id)
        .sort(),
    ).toEqual([...poisoned].sort());
    expect(events[events.length - 1]).toMatchObject({ event: 'done', failed: 4, ok: false });

    const retry = await runSeeder({ config: portableConfig(db), delaySeconds: 0, progress: 'none' });
    expect(retry).toMatchObject({ ok: true, migrated: 4, failed: 0, remaining: 0 });
    expect((await checkTable(db)).wrong).toEqual([]);
    fs.rmSync(file, { force: true });
  });
});

describe('an application writing during the run is never overwritten', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('appwriter');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 600, emptyRate: 0 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());

  test('values the application wrote stay; rows whose text changed never hold the embedding of the old text', async () => {
    const APP_VALUE = '[[1,42]]';
    const run = runBackfill({
      config: portableConfig(db),
      embedder: slowed(40),
      workers: 2,
      batchSize: 25,
      delaySeconds: 0,
      progress: 'none',
    });
    const appSet = new Set<string>();
    const changed = new Set<string>();
    let inserted = 0;
    const writer = (async () => {
      for (let k = 0; k < 40; k++) {
        const i = (k * 37) % 600;
        const id = sampleId(i);
        if (k % 3 === 0) {
          await db.knex('memories').where({ id }).update({ sparse_embedding: APP_VALUE });
          appSet.add(id);
        } else if (k % 3 === 1) {
          await db
            .knex('memories')
            .where({ id })
            .update({ document: `rewritten by the app ${k}`, sparse_embedding: null });
          changed.add(id);
        } else {
          await db.knex('memories').insert({ id: sampleId(10_000 + k), document: `inserted by the app ${k}` });
          inserted++;
        }
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const [summary] = await Promise.all([run, writer]);
    expect(summary.error).toBeUndefined();
    // The total stays honest while rows change: at the end it is what was done plus what is left.
    expect(summary.total).toBe(summary.migrated + summary.failed + summary.remaining);
    expect(summary.total).toBeGreaterThanOrEqual(600 - appSet.size);
    for (const id of appSet) {
      if (changed.has(id)) continue;
      const row = await db.knex('memories').where({ id }).first();
      expect(JSON.stringify(row.sparse_embedding)).toBe(APP_VALUE); // mysql2 parses JSON columns
    }
    // Every stored vector (other than the app's own) is the embedding of the row's current text.
    const check = await checkTable(db, undefined, 'memories', (id) => appSet.has(id) && !changed.has(id));
    expect(check.wrong).toEqual([]);
    expect(inserted).toBeGreaterThan(0);
    // A second run embeds whatever the first one could not (changed or inserted behind the cursor).
    await runBackfill({ config: portableConfig(db), delaySeconds: 0, progress: 'none' });
    const final = await checkTable(db, undefined, 'memories', (id) => appSet.has(id) && !changed.has(id));
    expect(final).toMatchObject({ wrong: [], nullEligible: 0 });
  });
});

describe('progress output', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('progress');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 300, emptyRate: 0 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());

  test("terminal: the guide's bar, counts, time, rate and one line per worker, redrawn in place", async () => {
    const out = captureStream(true);
    await runBackfill({
      config: portableConfig(db),
      workers: 3,
      batchSize: 20,
      delaySeconds: 0.02,
      progress: 'auto',
      out,
      dryRun: true,
      dryRunLimit: 300,
    });
    expect(out.text).toMatch(/Total: \[█+\] 100\.0% \| 300\/300/);
    expect(out.text).toMatch(/ {2}✓ Migrated: 300 \| ✗ Failed: 0/);
    expect(out.text).toMatch(/ {2}⏱ Elapsed: [\d.]+s \| Remaining: ~[\d.]+s \| 📊 [\d.]+ rec\/s/);
    expect(out.text).toContain('Workers (3):');
    expect(out.text).toMatch(/ {2}Worker 0: ✓ [\d,]+ \| ✗ 0/);
    expect(out.text).toMatch(/ {2}Worker 2: ✓ [\d,]+ \| ✗ 0/);
    expect(out.text).toContain('\x1b[2K');
    expect(out.text).toMatch(/\x1b\[\d+A/); // cursor up: redrawn in place
  });

  test('not a terminal: plain lines; --json: one JSON event per line', async () => {
    const plain = captureStream(false);
    await runBackfill({
      config: portableConfig(db),
      workers: 2,
      batchSize: 50,
      delaySeconds: 0,
      progress: 'auto',
      out: plain,
      dryRun: true,
      dryRunLimit: 200,
    });
    expect(plain.text).not.toContain('\x1b[');
    expect(plain.text).toMatch(
      /^progress 100\.0% 200\/200 migrated=200 failed=0 [\d.]+ rec\/s elapsed [\d.]+s remaining ~0\.0s workers=\[\d+\/0 \d+\/0\]$/m,
    );

    const json = captureStream(false);
    await runBackfill({
      config: portableConfig(db),
      workers: 2,
      batchSize: 50,
      delaySeconds: 0,
      progress: 'json',
      out: json,
      dryRun: true,
      dryRunLimit: 200,
    });
    const events = jsonLines(json.text);
    expect(events[0]).toMatchObject({ event: 'start', total: 200, batchSize: 50, workers: 2, dryRun: true });
    expect(events.some((e) => e.event === 'progress' && e.processed === 200 && e.workers.length === 2)).toBe(true);
    expect(events[events.length - 1]).toMatchObject({ event: 'done', migrated: 200, failed: 0, dryRun: true });
  });
});
