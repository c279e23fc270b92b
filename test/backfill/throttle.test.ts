import { runBackfill, type BackfillProgress } from '../../src/backfill';
import { ProgressTracker } from '../../src/backfill/progress/model';
import { BatchSize } from '../../src/backfill/throttle';
import { createKnex } from '../../src/db/knex';
import {
  captureStream,
  checkTable,
  jsonLines,
  portableConfig,
  resetBackfill,
  slowed,
  upgrade,
  waitUntil,
} from '../support/backfill';
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
  beforeEach(async () => resetBackfill(db));

  test('pauses while Threads_running is above the limit, resumes when the server is quiet again', async () => {
    // Four long queries keep Threads_running at >= 5 (they and the status query itself) until the test ends
    // them, which it does only once the backfill has reported the pause.
    const busy = createKnex(db.connection, { pool: 4 });
    try {
      // (the test interrupts them with KILL QUERY: their error is expected)
      const sleepers = Promise.all([1, 2, 3, 4].map(() => busy.raw('SELECT SLEEP(600) AS s').catch(() => undefined)));
      const sleeping = async (): Promise<number[]> => {
        const [rows] = await db.knex.raw(
          "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'SELECT SLEEP(600)%'",
          [db.name],
        );
        return rows.map((r: { id: number }) => Number(r.id));
      };
      await waitUntil(async () => (await sleeping()).length === 4);
      const out = captureStream();
      const snapshots: BackfillProgress[] = [];
      let released: Promise<void> | undefined;
      let workBeforeRelease = false;
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
          if (!released && p.processed > 0) workBeforeRelease = true;
          if (p.paused && !released) {
            released = sleeping().then(async (ids) => {
              for (const id of ids) await db.knex.raw(`KILL QUERY ${id}`);
            });
          }
        },
      });
      await released;
      await sleepers;
      expect(s).toMatchObject({ ok: true, migrated: 600 });
      expect(workBeforeRelease).toBe(false); // nothing ran while the server was busy
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
      expect((await checkTable(db)).wrong).toEqual([]);
    } finally {
      await busy.destroy();
    }
  });

  test('the batch size adapts toward the target batch duration, never above --batch-size', async () => {
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
    // A batch of n rows takes at least 2n ms (the embedder), so the size can only move down from 200; how far
    // depends on the machine's load (timing), so the arithmetic is checked with given durations below.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(200);
    expect(sizes[sizes.length - 1]).toBeLessThanOrEqual(100);
    expect((await checkTable(db)).wrong).toEqual([]);
  });

  test('the adaptive size, step by step: toward target x rows / duration, at most halved or doubled, within 1..max', () => {
    const tracker = new ProgressTracker(1000, 1, false, 200);
    const size = new BatchSize(200, 200, 100, tracker);
    const steps = (
      [
        [200, 400], // ideal 50: halved at most -> 100
        [100, 200], // ideal 50 -> 50
        [50, 100], // on target: stays 50
        [50, 10], // ideal 500: doubled at most -> 100
        [100, 10], // ideal 1000: doubled to 200, the max
        [200, 1], // still the max
        [200, 100_000], // ideal 0.2: halved -> 100
      ] as const
    ).map(([rows, ms]) => (size.observe(rows, ms), size.current));
    expect(steps).toEqual([100, 50, 50, 100, 200, 200, 100]);
    expect(tracker.batchSize).toBe(100);
    const tiny = new BatchSize(1, 200, 100, tracker);
    tiny.observe(1, 100_000);
    expect(tiny.current).toBe(1); // never below 1
    const fixed = new BatchSize(200, 200, undefined, tracker);
    fixed.observe(200, 100_000);
    expect(fixed.current).toBe(200); // no target: fixed
  });
});
