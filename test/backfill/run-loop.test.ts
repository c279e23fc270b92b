/**
 * The run loop's logic (src/backfill/run-loop.ts), in process with in-memory parts: a row source, the batch's
 * embed and write steps, the throttle's wait, the recount's counter and a clock, each of which can be held at a
 * named point (test/support/points.ts). So each test decides exactly when the stop comes or a step ends and checks
 * which batches were written, which were never started, what each checkpoint says, when the total is recounted.
 * No database (the real steps are tested with one in backfill/run-end, guarantees, edge-cases and
 * resume-checkpoint); no time: the clock is a counter and the pause between batches is recorded.
 */
import type { BatchResult } from '../../src/backfill/batch';
import type { Checkpoint } from '../../src/backfill/checkpoint';
import { BackfillEmitter } from '../../src/backfill/events';
import { ProgressTracker } from '../../src/backfill/progress/model';
import type { PendingRow } from '../../src/backfill/reader';
import { RunLoop, type RowSource, type RunLoopParts } from '../../src/backfill/run-loop';
import type { PendingWrite } from '../../src/backfill/writer';
import { outcome, Points, settleTurn, turnsUntil } from '../support/points';

interface Setup {
  /** Main pass: rows with ids 1..rows (default 10). */
  rows?: number;
  /** The sweep's rows (ids); none: no sweep. */
  sweep?: string[];
  workers?: number;
  /** The batch size (fixed unless `adapt`); default 2. */
  size?: number;
  /** The next batch size after a batch of n rows took ms (the adaptive size); default: unchanged. */
  adapt?: (rows: number, ms: number, current: number) => number;
  cap?: number;
  delayMs?: number;
  /** The progress total at start; default: rows. */
  total?: number;
  quiet?: boolean;
  count?: () => Promise<number>;
  /** Rows the embed step fails (recorded as failed in this run, as embedBatch does). */
  fail?: string[];
  /** Rows recorded as failed before the run starts. */
  failedBefore?: string[];
  /** Errors thrown at a point, by name (e.g. 'embed:3-4', 'read:main:2', 'write:1-2', 'quiet:2'). */
  errors?: Record<string, Error>;
  resumedAfter?: string;
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i + 1));
const row = (id: string): PendingRow => ({ id, text: `text ${id}`, hash: `hash ${id}` });
const key = (list: Array<{ id: string }>): string => `${list[0].id}-${list[list.length - 1].id}`;

/** A RunLoop on in-memory parts, with what each part saw. */
function harness(s: Setup = {}) {
  const points = new Points();
  const errorAt = async (name: string): Promise<void> => {
    await points.pass(name);
    const err = s.errors?.[name];
    if (err) throw err;
  };
  const rows = s.rows ?? 10;
  const h = {
    points,
    abort: new AbortController(),
    tracker: new ProgressTracker(s.total ?? rows, s.workers ?? 1, false, s.size ?? 2),
    events: new BackfillEmitter(),
    failures: new Set<string>(s.failedBefore),
    limits: { main: [] as number[], sweep: [] as number[] },
    embedded: [] as string[],
    written: [] as string[],
    slots: [] as number[],
    checkpoints: [] as Checkpoint[],
    observed: [] as Array<[number, number]>,
    pauses: [] as Array<[number, AbortSignal | undefined]>,
    progress: [] as number[],
    quietCalls: 0,
    time: 0,
  };
  h.events.on('progress', (p) => h.progress.push(p.processed));
  const source = (list: string[], which: 'main' | 'sweep'): RowSource => {
    let at = 0;
    return {
      async next(limit) {
        h.limits[which].push(limit);
        await errorAt(`read:${which}:${h.limits[which].length}`);
        const out = list.slice(at, at + limit).map(row);
        at += out.length;
        return out;
      },
    };
  };
  const size = { current: s.size ?? 2 };
  const parts: RunLoopParts = {
    reader: source(ids(rows), 'main'),
    sweep: s.sweep ? source(s.sweep, 'sweep') : undefined,
    steps: {
      async embed(batch: PendingRow[], _slot: number, result: BatchResult): Promise<PendingWrite[]> {
        h.embedded.push(key(batch));
        h.time += 7; // each embed takes 7 "ms" of the fake clock
        await errorAt(`embed:${key(batch)}`);
        const failed = batch.filter((r) => s.fail?.includes(r.id));
        for (const r of failed) h.failures.add(r.id);
        result.failed += failed.length;
        return batch.filter((r) => !failed.includes(r)).map((r) => ({ id: r.id, hash: r.hash, value: `v${r.id}` }));
      },
      async write(writes: PendingWrite[], slot: number, result: BatchResult): Promise<void> {
        const name = writes.length ? key(writes) : 'none';
        await errorAt(`write:${name}`);
        h.written.push(name);
        h.slots.push(slot);
        result.migrated += writes.length;
      },
    },
    failures: { has: (id) => h.failures.has(id) },
    events: h.events,
    tracker: h.tracker,
    size: {
      get current() {
        return size.current;
      },
      observe(n, ms) {
        h.observed.push([n, ms]);
        if (s.adapt) size.current = s.adapt(n, ms, size.current);
      },
    },
    clock: {
      now: () => h.time,
      pause: async (ms, signal) => void h.pauses.push([ms, signal]),
    },
    workers: s.workers ?? 1,
    cap: s.cap,
    delayMs: s.delayMs ?? 0,
    quiet: s.quiet ? () => errorAt(`quiet:${++h.quietCalls}`) : undefined,
    count: s.count,
    signal: h.abort.signal,
    resumedAfter: s.resumedAfter,
    onCheckpoint: (c) => h.checkpoints.push(c),
    skipped: 3,
  };
  return Object.assign(h, { loop: new RunLoop(parts) });
}

/** Whether `p` has settled (after letting the in-memory work go as far as it can). */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settleTurn();
  return settled;
}

describe('RunLoop: a whole run', () => {
  test('reads batches of the size, embeds and writes each once, in order, with a progress event per write', async () => {
    const h = harness({ rows: 7, size: 3 });
    expect(await outcome(h.loop.run())).toBeUndefined();
    expect(h.limits.main).toEqual([3, 3, 3, 3]); // the last read is empty: the end
    expect(h.embedded).toEqual(['1-3', '4-6', '7-7']);
    expect(h.written).toEqual(['1-3', '4-6', '7-7']);
    expect(h.progress).toEqual([3, 6, 7]);
    expect(h.tracker.migrated).toBe(7);
    expect(h.loop.counts).toEqual({ resumedAfter: undefined, main: 7, sweep: 0, swept: false });
  });

  test("each batch's row count and measured time go to the batch size, whose new size the next read takes", async () => {
    // Workers 1: batch 2 is read ahead while batch 1 runs, so the size observed after batch 1 is used from read 3.
    const h = harness({ rows: 9, size: 2, adapt: (n, _ms, current) => current + n });
    await outcome(h.loop.run());
    expect(h.observed).toEqual([
      [2, 7],
      [2, 7],
      [4, 7],
      [1, 7],
    ]);
    expect(h.limits.main).toEqual([2, 2, 4, 6, 10]);
    expect(h.embedded).toEqual(['1-2', '3-4', '5-8', '9-9']);
  });

  test('pauses delayMs after each batch (with the signal, so a stop ends the pause), and not at all with 0', async () => {
    const h = harness({ rows: 4, delayMs: 250 });
    await outcome(h.loop.run());
    expect(h.pauses).toEqual([
      [250, h.abort.signal],
      [250, h.abort.signal],
    ]);
    const none = harness({ rows: 4, delayMs: 0 });
    await outcome(none.loop.run());
    expect(none.pauses).toEqual([]);
  });

  test('waits for a quiet server before each read (the throttle), none without one', async () => {
    const h = harness({ rows: 4, quiet: true });
    await outcome(h.loop.run());
    expect(h.quietCalls).toBe(3); // 2 batches and the empty read
    expect(h.points.log.filter((p) => p.startsWith('quiet') || p.startsWith('read'))).toEqual([
      'quiet:1',
      'read:main:1',
      'quiet:2',
      'read:main:2',
      'quiet:3',
      'read:main:3',
    ]);
  });

  test('keeps one batch read ahead per worker: with every embed held, 2 workers read 4 batches, no 5th', async () => {
    const h = harness({ rows: 20, workers: 2 });
    h.points.hold('embed:1-2', 'embed:3-4', 'embed:5-6');
    const done = h.loop.run();
    await h.points.reached('embed:3-4');
    await settleTurn();
    expect(h.limits.main).toHaveLength(4);
    expect(h.embedded).toEqual(['1-2', '3-4']);
    h.points.open('embed:1-2');
    await h.points.reached('embed:5-6'); // in the slot batch 1 freed
    await settleTurn();
    expect(h.limits.main).toHaveLength(5); // and one more read ahead
    h.points.open('embed:5-6');
    h.points.open('embed:3-4');
    await outcome(done);
    expect(h.written).toHaveLength(10);
  });

  test('up to `workers` writes in flight: a held write does not hold the other slot', async () => {
    const h = harness({ rows: 6, workers: 2 });
    h.points.hold('write:1-2');
    const done = h.loop.run();
    await h.points.reached('write:1-2');
    await turnsUntil(() => h.written.length === 1);
    expect(h.written).toEqual(['3-4']);
    expect(await isSettled(done)).toBe(false);
    h.points.open('write:1-2');
    await outcome(done);
    expect([...h.written].sort()).toEqual(['1-2', '3-4', '5-6']);
  });
});

describe('RunLoop: the stop (no new batch; batches started are finished)', () => {
  test('aborted before the run: nothing read, nothing embedded', async () => {
    const h = harness({ quiet: true, sweep: ['1'] });
    h.abort.abort();
    expect(await outcome(h.loop.run())).toBeUndefined();
    expect(h.quietCalls).toBe(0);
    expect(h.limits).toEqual({ main: [], sweep: [] });
    expect(h.embedded).toEqual([]);
    expect(h.loop.counts.swept).toBe(false); // (a sweep that "reached the end" would mean nothing is left)
  });

  test('aborted while waiting for a free slot: no throttle wait or read after it; the queued batch never starts', async () => {
    // Workers 1: batch 1 is embedding (held), batch 2 is read and queued, the loop waits for room.
    const h = harness({ quiet: true });
    h.points.hold('embed:1-2');
    const done = h.loop.run();
    await h.points.reached('embed:1-2');
    await settleTurn();
    expect(h.limits.main).toEqual([2, 2]);
    h.abort.abort();
    h.points.open('embed:1-2');
    await outcome(done);
    expect(h.quietCalls).toBe(2);
    expect(h.limits.main).toEqual([2, 2]);
    expect(h.embedded).toEqual(['1-2']);
    expect(h.written).toEqual(['1-2']);
    expect(h.loop.counts.main).toBe(4); // read, not processed: left for the next run
  });

  test('aborted during the throttle wait: the read it waited for is not made', async () => {
    const h = harness({ quiet: true, sweep: ['9'] });
    h.points.hold('quiet:2');
    const done = h.loop.run();
    await h.points.reached('quiet:2');
    h.abort.abort();
    h.points.open('quiet:2');
    await outcome(done);
    expect(h.limits).toEqual({ main: [2], sweep: [] });
    expect(h.written).toEqual(['1-2']);
    expect(h.loop.counts.swept).toBe(false);
  });

  test('aborted during a read: the rows it returns are not embedded', async () => {
    const h = harness({ sweep: ['9'] });
    h.points.hold('read:main:2');
    const done = h.loop.run();
    await h.points.reached('read:main:2');
    h.abort.abort();
    h.points.open('read:main:2');
    await outcome(done);
    expect(h.limits).toEqual({ main: [2, 2], sweep: [] });
    expect(h.embedded).toEqual(['1-2']);
    expect(h.loop.counts.swept).toBe(false);
    expect(h.checkpoints.map((c) => c.after)).toEqual(['2']);
  });

  test('aborted during an embed: that batch is written, and its checkpoint recorded; no other starts', async () => {
    const h = harness({ workers: 2 });
    h.points.hold('embed:1-2', 'embed:3-4');
    const done = h.loop.run();
    await h.points.reached('embed:3-4');
    h.abort.abort();
    // Batch 2 first: the checkpoint moves only when batch 1 is done too, over both.
    h.points.open('embed:3-4');
    await turnsUntil(() => h.written.length === 1);
    h.points.open('embed:1-2');
    expect(await outcome(done)).toBeUndefined();
    expect(h.embedded).toEqual(['1-2', '3-4']);
    expect([...h.written].sort()).toEqual(['1-2', '3-4']);
    expect(h.tracker.migrated).toBe(4);
    expect(h.checkpoints.map((c) => c.after)).toEqual(['4']);
  });

  test('aborted during a pipelined write: the run ends only after it and the write behind it; the queued batch never starts', async () => {
    // Workers 1: write 1 held; batch 2 is embedded meanwhile (pipelined) and its write waits for write 1;
    // batch 3 is read and queued.
    const h = harness();
    h.points.hold('write:1-2');
    const done = h.loop.run();
    await h.points.reached('write:1-2');
    await settleTurn();
    expect(h.embedded).toEqual(['1-2', '3-4']);
    expect(h.limits.main).toEqual([2, 2, 2]);
    h.abort.abort();
    expect(await isSettled(done)).toBe(false);
    h.points.open('write:1-2');
    await outcome(done);
    expect(h.embedded).toEqual(['1-2', '3-4']);
    expect(h.written).toEqual(['1-2', '3-4']);
    expect(h.checkpoints.map((c) => c.after)).toEqual(['2', '4']);
    expect(h.loop.counts).toEqual({ resumedAfter: undefined, main: 6, sweep: 0, swept: false });
  });
});

describe('RunLoop: an error ends the run', () => {
  test('a failed read: the run ends with its error, batches already read are written, no sweep', async () => {
    const err = new Error('read refused');
    const h = harness({ errors: { 'read:main:3': err }, sweep: ['9'] });
    expect(await outcome(h.loop.run())).toBe(err);
    expect(h.written).toEqual(['1-2', '3-4']);
    expect(h.limits.main).toEqual([2, 2, 2]);
    expect(h.limits.sweep).toEqual([]);
    expect(h.loop.counts.swept).toBe(false);
  });

  test('a failed throttle wait ends the run with its error', async () => {
    const err = new Error('status refused');
    const h = harness({ quiet: true, errors: { 'quiet:2': err } });
    expect(await outcome(h.loop.run())).toBe(err);
    expect(h.limits.main).toEqual([2]);
  });

  test('a failed embed: the run ends with its error; the batch read ahead never starts', async () => {
    const err = new Error('embedder refused');
    const h = harness({ errors: { 'embed:3-4': err } });
    expect(await outcome(h.loop.run())).toBe(err);
    expect(h.embedded).toEqual(['1-2', '3-4']);
    expect(h.written).toEqual(['1-2']);
  });

  test("the only write refused: the run ends with the write's error", async () => {
    const err = new Error('write refused');
    const h = harness({ rows: 2, errors: { 'write:1-2': err } });
    expect(await outcome(h.loop.run())).toBe(err);
  });

  test("two failures: the first is the run's error", async () => {
    const first = new Error('first');
    const h = harness({ workers: 2, errors: { 'embed:3-4': first, 'embed:1-2': new Error('second') } });
    h.points.hold('embed:1-2');
    const done = h.loop.run();
    await h.points.reached('embed:1-2');
    await turnsUntil(() => h.embedded.includes('3-4'));
    h.points.open('embed:1-2');
    expect(await outcome(done)).toBe(first);
  });
});

describe('RunLoop: the cap (a dry or limited run)', () => {
  test('reads no more than the cap: the last read asks for what is left of it, then none', async () => {
    const h = harness({ rows: 10, size: 2, cap: 5 });
    await outcome(h.loop.run());
    expect(h.limits.main).toEqual([2, 2, 1]);
    expect(h.written).toEqual(['1-2', '3-4', '5-5']);
    expect(h.loop.counts.main).toBe(5);
  });

  test('the rows of the main pass and of the sweep count together against the cap', async () => {
    const h = harness({ rows: 3, size: 2, cap: 6, sweep: ['7', '8', '9', '10'] });
    await outcome(h.loop.run());
    expect(h.limits.main).toEqual([2, 2, 2]); // 2 + 1 rows, then the end
    expect(h.limits.sweep).toEqual([2, 1]); // 3 taken: 2, then the 1 left of the cap
    expect(h.loop.counts).toEqual({ resumedAfter: undefined, main: 3, sweep: 3, swept: false });
    expect(h.written).toEqual(['1-2', '3-3', '7-8', '9-9']);
  });
});

describe('RunLoop: the final sweep', () => {
  test('after the main pass reached the end and every write of it settled; it takes rows behind the reader', async () => {
    const h = harness({ rows: 4, sweep: ['2', '9'], resumedAfter: '1' });
    h.points.hold('write:3-4');
    const done = h.loop.run();
    await h.points.reached('write:3-4');
    await settleTurn();
    expect(h.limits.main).toEqual([2, 2, 2]); // the main pass reached its end ...
    expect(h.limits.sweep).toEqual([]); // ... but its last write is in flight: the sweep waits
    h.points.open('write:3-4');
    await outcome(done);
    expect(h.written).toEqual(['1-2', '3-4', '2-9']);
    expect(h.loop.counts).toEqual({ resumedAfter: '1', main: 4, sweep: 2, swept: true });
  });

  test('the sweep leaves the rows that failed in this run (a batch of only those is not run); the main pass does not', async () => {
    const h = harness({ rows: 6, fail: ['3', '5'], failedBefore: ['1'], sweep: ['3', '5', '8', '9'] });
    await outcome(h.loop.run());
    expect(h.embedded).toEqual(['1-2', '3-4', '5-6', '8-9']); // row 1: "failed" before, still taken by the main pass
    expect(h.limits.sweep).toEqual([2, 2, 2]);
    expect(h.loop.counts).toEqual({ resumedAfter: undefined, main: 6, sweep: 4, swept: true });
    expect(h.tracker.failed).toBe(2);
  });

  test('a run with no sweep ends after the main pass', async () => {
    const h = harness({ rows: 2 });
    expect(await outcome(h.loop.run())).toBeUndefined();
    expect(h.loop.counts.swept).toBe(false);
  });
});

describe("RunLoop: the checkpoint's watermark", () => {
  test('moves with the main pass only, over batches done in read order; remaining = total - processed', async () => {
    const h = harness({ rows: 7, size: 3, total: 7, sweep: ['2', '8'] });
    await outcome(h.loop.run());
    expect(h.checkpoints).toEqual([
      { after: '3', remaining: 4, skipped: 3 },
      { after: '6', remaining: 1, skipped: 3 },
      { after: '7', remaining: 0, skipped: 3 },
    ]);
  });

  test('remaining is never below 0 (more processed than counted, no recount)', async () => {
    const h = harness({ rows: 4, total: 1 });
    await outcome(h.loop.run());
    expect(h.checkpoints.map((c) => c.remaining)).toEqual([0, 0]);
  });
});

describe('RunLoop: the recount (more rows processed than counted)', () => {
  test('counts again only once processed > total; the new total = processed + still NULL - failed', async () => {
    const at: number[] = [];
    const h = harness({ rows: 6, total: 4, fail: ['6'], count: async () => (at.push(h.tracker.processed), 3) });
    await outcome(h.loop.run());
    expect(at).toEqual([6]); // not at 4 (= total)
    expect(h.tracker.total).toBe(6 + 3 - 1);
  });

  test('still NULL below the failed rows: the total is what was processed', async () => {
    const h = harness({ rows: 6, total: 4, fail: ['5', '6'], count: async () => 1 });
    await outcome(h.loop.run());
    expect(h.tracker.total).toBe(6);
  });

  test('once at a time: none while one is pending; again once it is done', async () => {
    const at: number[] = [];
    const points = new Points().hold('count:1');
    const h = harness({
      rows: 10,
      total: 2,
      count: async () => {
        at.push(h.tracker.processed);
        await points.pass(`count:${at.length}`);
        return 0;
      },
    });
    h.points.hold('embed:7-8');
    const done = h.loop.run();
    await points.reached('count:1');
    await h.points.reached('embed:7-8');
    expect(at).toEqual([4]); // not at 6: the count begun at 4 is pending
    points.open('count:1');
    await turnsUntil(() => h.tracker.total === 6);
    h.points.open('embed:7-8');
    await outcome(done);
    expect(at).toEqual([4, 8, 10]);
    expect(h.tracker.total).toBe(10);
  });

  test('the run ends after the pending recount has set the total', async () => {
    const points = new Points().hold('count');
    const h = harness({ rows: 4, total: 2, count: async () => (await points.pass('count'), 5) });
    const done = h.loop.run();
    await points.reached('count');
    await turnsUntil(() => h.tracker.processed === 4);
    expect(await isSettled(done)).toBe(false);
    points.open('count');
    await outcome(done);
    expect(h.tracker.total).toBe(4 + 5);
  });

  test('a failed count changes nothing and does not end the run', async () => {
    const h = harness({ rows: 4, total: 2, count: () => Promise.reject(new Error('count refused')) });
    expect(await outcome(h.loop.run())).toBeUndefined();
    expect(h.tracker.total).toBe(2);
  });

  test('never without a counter (a dry or limited run)', async () => {
    const h = harness({ rows: 4, total: 2 });
    await outcome(h.loop.run());
    expect(h.tracker.total).toBe(2);
  });
});
