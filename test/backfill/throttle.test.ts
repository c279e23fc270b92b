import { runBackfill, type BackfillProgress } from '../../src/backfill';
import { createKnex } from '../../src/db/knex';
import { captureStream, checkTable, jsonLines, portableConfig, slowed, upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

describe('throttle', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('throttle');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 600, emptyRate: 0 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());

  test('pauses while Threads_running is above the limit, resumes when the server is quiet again', async () => {
    // Four long queries keep Threads_running at >= 5 (they and the status query itself) for 1.5 s.
    const busy = createKnex(db.connection, { pool: 4 });
    try {
      const sleepers = Promise.all([1, 2, 3, 4].map(() => busy.raw('SELECT SLEEP(1.5)')));
      await new Promise((r) => setTimeout(r, 200));
      const out = captureStream();
      const started = Date.now();
      let firstWriteAt = 0;
      const snapshots: BackfillProgress[] = [];
      const s = await runBackfill({
        config: portableConfig(db),
        maxThreadsRunning: 3,
        batchSize: 100,
        workers: 2,
        delaySeconds: 0,
        progress: 'json',
        progressIntervalSeconds: 0,
        out,
        onProgress: (p) => {
          snapshots.push(p);
          if (p.processed > 0 && !firstWriteAt) firstWriteAt = Date.now();
        },
      });
      await sleepers;
      expect(s).toMatchObject({ ok: true, migrated: 600 });
      const events = jsonLines(out.text);
      const names = events.map((e) => e.event);
      const paused = names.indexOf('paused');
      const resumed = names.indexOf('resumed');
      const firstWork = events.findIndex((e) => e.event === 'progress' && e.processed > 0);
      expect(paused).toBeGreaterThan(0);
      expect(events[paused]).toMatchObject({ threshold: 3 });
      expect(events[paused].threadsRunning).toBeGreaterThan(3);
      expect(resumed).toBeGreaterThan(paused);
      expect(firstWork).toBeGreaterThan(resumed);
      expect(snapshots.some((p) => p.paused)).toBe(true);
      expect(firstWriteAt - started).toBeGreaterThanOrEqual(1000); // nothing ran while the server was busy
      expect((await checkTable(db)).wrong).toEqual([]);
    } finally {
      await busy.destroy();
    }
  });

  test('the batch size adapts toward the target batch duration, never above --batch-size', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const sizes: number[] = [];
    const s = await runBackfill({
      config: portableConfig(db),
      embedder: slowed((texts) => 2 * texts.length), // 200 rows = 400 ms
      batchSize: 200,
      targetBatchMs: 100,
      workers: 1,
      delaySeconds: 0,
      progress: 'none',
      onProgress: (p) => sizes.push(p.batchSize),
    });
    expect(s).toMatchObject({ ok: true, migrated: 600 });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(200);
    expect(sizes[sizes.length - 1]).toBeLessThanOrEqual(100);
    expect(sizes[sizes.length - 1]).toBeGreaterThanOrEqual(20);
    expect((await checkTable(db)).wrong).toEqual([]);
  });
});
