import type { SparseVectorConfig } from '../config/config';
import type { SparseTarget } from '../dialect/dialect';
import { describeFingerprint } from '../embedders/fingerprint';
import { splitsTable } from '../options/read';
import { targetOf } from '../schema/sparse-schema';
import { redact } from '../util/redact';
import type { ResumeHint } from './checkpoint';
import { checkBackfillSpace } from './embedding-space';
import type { BackfillOptions, Shard } from './options';
import { eligibleWhere } from './queries';
import { BACKFILL_SEEDER, type SeedLedger, type SeedRecord } from './seed-ledger';
import type { BackfillSummary } from './summary';

/*
 * The seeder's decisions, apart from its I/O (seeder.ts takes the locks, reads and writes the ledger, probes the
 * table and runs the backfill): what a run does at its start given the ledger record, and what it records at its
 * end. Each is a function of its arguments, no database (test/backfill/seed-decisions.test.ts).
 */

/** The shard's part of the seed lock's name: `:index/count` for a shard of a split run, '' for the whole table. */
export function shardKey(shard: Shard | undefined): string {
  return splitsTable(shard) ? `:${shard.index}/${shard.count}` : '';
}

/** What a run does at its start (see startPlan). */
export interface StartPlan {
  /** A re-embed to start or continue (reembed-seed.ts); nothing else here applies then. */
  reembed: boolean;
  /** What to tell the user first, in order. */
  notes: string[];
  /**
   * The record says 'done': a cache, trusted only while no eligible row exists. The run asks the probe
   * (hasEligibleRow) and says `done` and does nothing when it finds none, else says `waiting` and runs.
   */
  probe?: { done: string; waiting: string };
  /** Said when the run goes on: the previous run did not record its end. */
  interrupted?: string;
}

export interface StartInput {
  options: Pick<BackfillOptions, 'config' | 'dryRun' | 'rerun' | 'reembed'>;
  /** The backfill's ledger record (an embedder recorded by a run that stored no vector already forgotten). */
  record: SeedRecord | undefined;
  /** The run's embedder (canonicalFingerprint). */
  fingerprint: string;
  /** shardKey() of the run. */
  shard: string;
  target: SparseTarget;
}

/**
 * What a run does at its start. Throws EMBEDDER_CHANGED when its embedder is not the one recorded for the stored
 * vectors (a dry run writes nothing: it may try any; a re-embed is the way to change it). --rerun and dry runs
 * never trust a 'done' record; a dry run says nothing of the ledger (it never touches it).
 */
export function startPlan(s: StartInput): StartPlan {
  const { options, record, fingerprint } = s;
  if (!options.dryRun) checkBackfillSpace(record, fingerprint, options.config, !!options.reembed);
  const reembed =
    !!options.reembed && (record?.reembed_to === fingerprint || record?.embedder_fingerprint !== fingerprint);
  if (reembed) return { reembed, notes: [] };
  const notes: string[] = [];
  if (options.reembed)
    notes.push(
      `The stored vectors are already recorded as ${describeFingerprint(fingerprint)}: nothing to re-embed; running the usual backfill.`,
    );
  if (record && record.runs > 0 && !record.embedder_fingerprint && !options.dryRun)
    notes.push(
      `The seeds ledger records no embedder for the stored vectors (written by an older version): recording ${describeFingerprint(fingerprint)}. If they were made by another embedder, re-embed the table (--reembed).`,
    );
  const plan: StartPlan = { reembed, notes };
  if (record?.status === 'done' && !options.rerun && !options.dryRun) plan.probe = doneProbe(record, s.target);
  if (record?.status === 'running' && !s.shard && !options.dryRun)
    plan.interrupted =
      'The previous run did not record its end (it was killed or lost the server): continuing with the rows still NULL.';
  return plan;
}

/** What the done probe's two answers are told as. */
function doneProbe(record: SeedRecord, target: SparseTarget): NonNullable<StartPlan['probe']> {
  const runs = `${record.runs} run${record.runs === 1 ? '' : 's'}`;
  return {
    done: `Seeder ${BACKFILL_SEEDER} is already done (${runs}, last finished ${record.last_finished_at ?? '?'}) and no row is waiting: nothing to do.`,
    waiting: `Seeder ${BACKFILL_SEEDER} is recorded as done, but table '${target.table}' has rows to embed again (NULL ${target.sparseColumn}): running.`,
  };
}

/**
 * Where an unsharded run resumes: after the previous run's checkpoint, if it is one for this table and column (a
 * hint; see checkpoint.ts). A shard never resumes: the checkpoint is of a whole-table run.
 */
export function resumeOf(
  ledger: Pick<SeedLedger, 'checkpointOf'>,
  record: SeedRecord | undefined,
  config: SparseVectorConfig,
  shard: string,
): ResumeHint | undefined {
  if (shard) return undefined;
  const previous = ledger.checkpointOf(record, config.table, config.sparseColumn);
  return previous && { after: previous.after, total: previous.remaining, skipped: previous.skipped };
}

/** What the ledger records at a run's end (SeedLedger.finish). */
export type RunEnd = Parameters<SeedLedger['finish']>[2];

/**
 * The end of a run that returned its summary: the done decision (endStatus), its figures, its error (redacted),
 * and its checkpoint cleared only when it reached the end (a stopped or failed run keeps it).
 */
export function runEnd(config: SparseVectorConfig, shard: string, summary: BackfillSummary): RunEnd {
  return {
    status: endStatus(config, shard, summary),
    migrated: summary.migrated,
    failed: summary.failed,
    error: summary.error ? redact(summary.error.message) : undefined,
    clearCheckpoint: !summary.error && !summary.stopped,
  };
}

/** The end of a run that threw (its setup failed, nothing was written): a 'done' record stays done. */
export function failedRunEnd(record: SeedRecord | undefined, err: unknown): RunEnd {
  const status = record?.status === 'done' ? 'done' : 'incomplete';
  return { status, migrated: 0, failed: 0, error: redact((err as Error).message) };
}

/**
 * Done means done for the whole table. An unsharded run holds the table's lock and has just counted what is
 * left (summary.remaining); a shard knows only its share, so the other shards' rows are judged at the
 * moment of the ledger write.
 */
export function endStatus(config: SparseVectorConfig, shard: string, summary: BackfillSummary): RunEnd['status'] {
  if (summary.error) return 'incomplete';
  if (shard) {
    const all = eligibleWhere(targetOf(config));
    return { doneUnless: { table: config.table, where: all.sql, bindings: all.bindings } };
  }
  return summary.remaining + summary.failed === 0 ? 'done' : 'incomplete';
}
