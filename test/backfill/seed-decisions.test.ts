import { resolveConfig } from '../../src/config/config';
import { eligibleWhere } from '../../src/backfill/queries';
import {
  endStatus,
  failedRunEnd,
  resumeOf,
  runEnd,
  shardKey,
  startPlan,
  type StartInput,
} from '../../src/backfill/seed-decisions';
import { BACKFILL_SEEDER, SeedLedger, type SeedRecord } from '../../src/backfill/seed-ledger';
import { emptySummary, type BackfillSummary } from '../../src/backfill/summary';
import { targetOf } from '../../src/schema/sparse-schema';

/*
 * The seeder's decisions without a database (see seed-decisions.ts; the I/O around them is tested on the server by
 * backfill/seeder-runs and the flow tests): what a run does at its start given the ledger record, and what it
 * records at its end. Focused tests for `npm run mutate` (stryker.units.config.mjs).
 */

const config = resolveConfig({ databaseUrl: 'mysql://u:pw@db.invalid:3306/app', storage: 'json' }, {});
const target = targetOf(config);
const FP = 'local:bm25';
const OTHER = 'openai:text-embedding-3-small';

function record(r: Partial<SeedRecord>): SeedRecord {
  return {
    name: BACKFILL_SEEDER,
    status: 'incomplete',
    runs: 1,
    migrated: 0,
    failed: 0,
    last_started_at: null,
    last_finished_at: null,
    last_error: null,
    embedder_fingerprint: FP,
    reembed_to: null,
    ...r,
  };
}

function plan(r: SeedRecord | undefined, options: Partial<StartInput['options']> = {}, shard = '', fingerprint = FP) {
  return startPlan({ options: { config, ...options }, record: r, fingerprint, shard, target });
}

function summary(s: Partial<BackfillSummary>): BackfillSummary {
  return { ...emptySummary(false), ...s };
}

describe('shardKey: the shard part of the seed lock', () => {
  test('a shard of a split run is named; no shard, or one of one, is the whole table', () => {
    expect(shardKey({ index: 2, count: 3 })).toBe(':2/3');
    expect(shardKey({ index: 0, count: 1 })).toBe('');
    expect(shardKey(undefined)).toBe('');
  });
});

describe("startPlan: what a run does at its start, given the ledger's record", () => {
  test('no record: an ordinary run, nothing to say', () => {
    expect(plan(undefined)).toEqual({ reembed: false, notes: [] });
  });

  test('another embedder than the recorded one is refused, also for a shard; a dry run may try any', () => {
    expect(() => plan(record({}), {}, '', OTHER)).toThrow(expect.objectContaining({ code: 'EMBEDDER_CHANGED' }));
    expect(() => plan(record({}), {}, ':0/2', OTHER)).toThrow(expect.objectContaining({ code: 'EMBEDDER_CHANGED' }));
    expect(plan(record({}), { dryRun: true }, '', OTHER)).toEqual({ reembed: false, notes: [] });
  });

  test('a re-embed: to another embedder, to a first one, or one in progress is a re-embed run', () => {
    expect(plan(record({}), { reembed: true }, '', OTHER)).toEqual({ reembed: true, notes: [] });
    expect(plan(undefined, { reembed: true })).toEqual({ reembed: true, notes: [] });
    const going = record({ embedder_fingerprint: OTHER, reembed_to: FP, status: 'running' });
    expect(plan(going, { reembed: true })).toEqual({ reembed: true, notes: [] });
    // A re-embed from an unrecorded space, then a plain run with the target embedder (its ledger start records
    // it): the re-embed in progress is still finished, not taken for "already recorded".
    const recordedMeanwhile = record({ embedder_fingerprint: FP, reembed_to: FP });
    expect(plan(recordedMeanwhile, { reembed: true })).toEqual({ reembed: true, notes: [] });
  });

  test('a re-embed into the recorded embedder is the usual backfill, said so', () => {
    const p = plan(record({ status: 'running' }), { reembed: true });
    expect(p.reembed).toBe(false);
    expect(p.notes).toEqual([
      `The stored vectors are already recorded as ${FP}: nothing to re-embed; running the usual backfill.`,
    ]);
    expect(p.interrupted).toBeDefined();
  });

  test('a ledger of an older version (runs, no embedder): the embedder is recorded, said so; not by a dry run', () => {
    const older = record({ embedder_fingerprint: null, runs: 1 });
    expect(plan(older).notes).toEqual([
      `The seeds ledger records no embedder for the stored vectors (written by an older version): recording ${FP}. If they were made by another embedder, re-embed the table (--reembed).`,
    ]);
    expect(plan(older, { dryRun: true }).notes).toEqual([]);
    expect(plan(record({ embedder_fingerprint: null, runs: 0 })).notes).toEqual([]);
    expect(plan(record({ runs: 3 })).notes).toEqual([]);
  });

  test("a 'done' record is checked by the probe (what each answer says); --rerun and a dry run never trust it", () => {
    const done = record({ status: 'done', runs: 1, last_finished_at: '2026-11-30 10:00:00' });
    expect(plan(done)).toEqual({
      reembed: false,
      notes: [],
      probe: {
        done: `Seeder ${BACKFILL_SEEDER} is already done (1 run, last finished 2026-11-30 10:00:00) and no row is waiting: nothing to do.`,
        waiting: `Seeder ${BACKFILL_SEEDER} is recorded as done, but table 'memories' has rows to embed again (NULL sparse_embedding): running.`,
      },
    });
    expect(plan(record({ status: 'done', runs: 2 })).probe?.done).toContain('(2 runs, last finished ?)');
    expect(plan(done, { rerun: true })).toEqual({ reembed: false, notes: [] });
    expect(plan(done, { dryRun: true })).toEqual({ reembed: false, notes: [] });
    expect(plan(done, {}, ':1/2').probe).toBeDefined();
    expect(plan(record({ status: 'incomplete' })).probe).toBeUndefined();
    expect(plan(record({ status: 'running' })).probe).toBeUndefined();
  });

  test("a 'running' record (the previous run did not record its end) is said, unsharded and not by a dry run", () => {
    const running = record({ status: 'running' });
    expect(plan(running)).toEqual({
      reembed: false,
      notes: [],
      interrupted:
        'The previous run did not record its end (it was killed or lost the server): continuing with the rows still NULL.',
    });
    // Shards run side by side: another one's 'running' is no interrupted run.
    expect(plan(running, {}, ':0/2')).toEqual({ reembed: false, notes: [] });
    expect(plan(running, { dryRun: true })).toEqual({ reembed: false, notes: [] });
    expect(plan(record({ status: 'incomplete' })).interrupted).toBeUndefined();
    expect(plan(undefined).interrupted).toBeUndefined();
  });
});

describe('resumeOf: where a run starts reading', () => {
  const ledger = new SeedLedger(config.seedsTable);
  const checkpoint = (c: object) => record({ resume_checkpoint: JSON.stringify(c) });
  const mine = { table: 'memories', column: 'sparse_embedding', after: '41', remaining: 7, skipped: 2 };

  test("unsharded: after the previous run's checkpoint, with its figures", () => {
    expect(resumeOf(ledger, checkpoint(mine), config, '')).toEqual({ after: '41', total: 7, skipped: 2 });
  });

  test("a shard never resumes (the checkpoint is a whole-table run's); no checkpoint, or another table's: from the start", () => {
    expect(resumeOf(ledger, checkpoint(mine), config, ':0/2')).toBeUndefined();
    expect(resumeOf(ledger, record({}), config, '')).toBeUndefined();
    expect(resumeOf(ledger, undefined, config, '')).toBeUndefined();
    expect(resumeOf(ledger, checkpoint({ ...mine, table: 'other' }), config, '')).toBeUndefined();
  });
});

describe("runEnd / endStatus: 'done' only when nothing is left in the whole table", () => {
  test("unsharded, nothing left and nothing failed: 'done', the checkpoint cleared", () => {
    expect(runEnd(config, '', summary({ migrated: 30 }))).toEqual({
      status: 'done',
      migrated: 30,
      failed: 0,
      error: undefined,
      clearCheckpoint: true,
    });
  });

  test("rows left, rows failed, or as many left as failed: 'incomplete'", () => {
    expect(endStatus(config, '', summary({ remaining: 1 }))).toBe('incomplete');
    expect(endStatus(config, '', summary({ failed: 1 }))).toBe('incomplete');
    expect(endStatus(config, '', summary({ remaining: 1, failed: 1 }))).toBe('incomplete');
    expect(runEnd(config, '', summary({ migrated: 28, failed: 2 }))).toMatchObject({
      status: 'incomplete',
      migrated: 28,
      failed: 2,
      clearCheckpoint: true,
    });
  });

  test("a run that ended with an error: 'incomplete' even with nothing counted as left; its error kept, redacted; the checkpoint kept", () => {
    const error = new Error('lost mysql://svm:s3cret-pw@db:3306/app');
    expect(runEnd(config, '', summary({ ok: false, error }))).toEqual({
      status: 'incomplete',
      migrated: 0,
      failed: 0,
      error: 'lost mysql://svm:****@db:3306/app',
      clearCheckpoint: false,
    });
    expect(endStatus(config, ':0/2', summary({ error }))).toBe('incomplete');
  });

  test('a stopped run keeps its checkpoint', () => {
    expect(runEnd(config, '', summary({ stopped: true, remaining: 5 }))).toMatchObject({
      status: 'incomplete',
      clearCheckpoint: false,
    });
  });

  test("a shard: 'done' decided at the ledger write, by the whole table's eligible rows (no shard condition)", () => {
    const all = eligibleWhere(target);
    expect(endStatus(config, ':1/3', summary({ remaining: 0 }))).toEqual({
      doneUnless: { table: 'memories', where: all.sql, bindings: [] },
    });
    expect(all.sql).not.toContain('CRC32');
  });
});

describe('failedRunEnd: a run whose setup failed (nothing written)', () => {
  test("a 'done' record stays done; any other becomes 'incomplete'; the error kept, redacted", () => {
    const err = new Error('refused: mysql://svm:s3cret-pw@db/app');
    const end = { migrated: 0, failed: 0, error: 'refused: mysql://svm:****@db/app' };
    expect(failedRunEnd(record({ status: 'done' }), err)).toEqual({ status: 'done', ...end });
    expect(failedRunEnd(record({ status: 'running' }), err)).toEqual({ status: 'incomplete', ...end });
    expect(failedRunEnd(undefined, err)).toEqual({ status: 'incomplete', ...end });
  });
});
