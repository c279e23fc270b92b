/**
 * The worker slots (src/backfill/slots.ts), in process: at most `count` jobs at a time, each in its own slot;
 * a slot's write runs while the slot embeds its next batch, whose write waits for it; free slots are taken in
 * the order they were freed; every error of a job or a write goes to onError; settle() waits for all of it.
 * Jobs and writes are held at named points (test/support/points.ts); no time.
 */
import { WorkerSlots } from '../../src/backfill/slots';
import { outcome, Points, settleTurn, turnsUntil } from '../support/points';

function slots(count: number) {
  const errors: Error[] = [];
  const points = new Points();
  const log: string[] = [];
  const s = new WorkerSlots(count, (err) => errors.push(err));
  /** A job `name`: holdable at `job:name`, then hands its write (holdable at `write:name`) to the pipeline. */
  const job = (name: string, fail?: { job?: Error; write?: Error }): void =>
    s.run(async (slot, pipeline) => {
      log.push(`${name}@${slot}`);
      await points.pass(`job:${name}`);
      if (fail?.job) throw fail.job;
      await pipeline(async () => {
        await points.pass(`write:${name}`);
        if (fail?.write) throw fail.write;
        log.push(`wrote ${name}`);
      });
      log.push(`${name} done`);
    });
  return { s, errors, points, log, job };
}

test('at most `count` jobs at a time, each in its own slot; the next starts when one ends', async () => {
  const t = slots(2);
  t.points.hold('job:a', 'job:b');
  t.job('a');
  t.job('b');
  t.job('c');
  await t.points.reached('job:b');
  await settleTurn();
  expect(t.log).toEqual(['a@0', 'b@1']);
  t.points.open('job:b');
  await turnsUntil(() => t.log.includes('c done'));
  expect(t.log).toEqual(['a@0', 'b@1', 'wrote b', 'b done', 'c@1', 'wrote c', 'c done']);
  t.points.open('job:a');
  await outcome(t.s.settle());
  expect(t.errors).toEqual([]);
});

test("pipelined: a slot's next job runs while its write is in flight; that job's write and its end wait for it", async () => {
  const t = slots(1);
  t.points.hold('write:a');
  t.job('a');
  t.job('b');
  await t.points.reached('write:a');
  await turnsUntil(() => t.log.includes('b@0'));
  await settleTurn();
  expect(t.log).toEqual(['a@0', 'a done', 'b@0']); // b's write and its end wait for a's write
  const settled = t.s.settle();
  await settleTurn();
  expect(t.log).toHaveLength(3);
  t.points.open('write:a');
  await outcome(settled);
  expect(t.log).toEqual(['a@0', 'a done', 'b@0', 'wrote a', 'wrote b', 'b done']);
});

test('free slots are taken in the order they were freed (round-robin): writes of fast jobs go on in every slot', async () => {
  const t = slots(2);
  t.points.hold('write:a', 'write:b');
  t.job('a');
  await turnsUntil(() => t.log.includes('a done')); // slot 0 free again at once, its write in flight
  t.job('b');
  await turnsUntil(() => t.log.includes('b done'));
  await t.points.reached('write:a');
  await t.points.reached('write:b'); // two writes in flight: b took slot 1, not slot 0 behind a's write
  t.job('c');
  await turnsUntil(() => t.log.includes('c@0'));
  t.points.open('write:a');
  t.points.open('write:b');
  await outcome(t.s.settle());
  expect(t.log).toEqual(['a@0', 'a done', 'b@1', 'b done', 'c@0', 'wrote a', 'wrote b', 'wrote c', 'c done']);
});

test('readyForMore: at once while fewer than `count` jobs wait to start; else when one starts', async () => {
  const t = slots(1);
  t.points.hold('job:a');
  await outcome(t.s.readyForMore());
  t.job('a'); // runs (held): none waiting
  await outcome(t.s.readyForMore());
  t.job('b'); // waits
  let ready = false;
  void t.s.readyForMore().then(() => (ready = true));
  await settleTurn();
  expect(ready).toBe(false);
  t.points.open('job:a');
  await turnsUntil(() => ready);
  await outcome(t.s.settle());
});

test("a job's error goes to onError, and its slot is freed for the next job", async () => {
  const t = slots(1);
  const err = new Error('embed failed');
  t.job('a', { job: err });
  t.job('b');
  await outcome(t.s.settle());
  expect(t.errors).toEqual([err]);
  expect(t.log).toEqual(['a@0', 'b@0', 'wrote b', 'b done']);
});

test("the last write's error goes to onError when settled (no later job on its slot meets it)", async () => {
  const t = slots(2);
  const err = new Error('write failed');
  t.job('a', { write: err });
  await outcome(t.s.settle());
  expect(t.errors).toEqual([err]);
  expect(t.log).toEqual(['a@0', 'a done']);
});

test("a write's error met by the slot's next job ends that job before its write (and goes to onError)", async () => {
  const t = slots(1);
  const err = new Error('write failed');
  t.job('a', { write: err });
  t.job('b');
  await outcome(t.s.settle());
  expect(t.errors[0]).toBe(err);
  expect(t.log).toEqual(['a@0', 'a done', 'b@0']);
});

test('settle: waits for jobs still running, then every write', async () => {
  const t = slots(2);
  t.points.hold('job:a');
  t.job('a');
  let settled = false;
  void t.s.settle().then(() => (settled = true));
  await settleTurn();
  expect(settled).toBe(false);
  t.points.open('job:a');
  await turnsUntil(() => settled);
  expect(t.log).toEqual(['a@0', 'wrote a', 'a done']);
});
