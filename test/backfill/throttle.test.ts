import { runBackfill, type BackfillProgress } from '../../src/backfill';
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
    expect(Math.max(...sizes)).toBeLessThanOrEqual(200);
    expect(sizes[sizes.length - 1]).toBeLessThanOrEqual(100);
    expect(sizes[sizes.length - 1]).toBeGreaterThanOrEqual(20);
    expect((await checkTable(db)).wrong).toEqual([]);
  });
});
