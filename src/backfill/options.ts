import type { SparseVectorConfig } from '../config/config';
import type { SparseEmbedder } from '../embedders/types';
import { SparseVectorError } from '../errors';
import { parseShard, readEnvOptions, readOptions, splitsTable, type Shard } from '../options/read';
import { BACKFILL, PROGRESS_STYLES, WORKERS, type OptionSpec, type ProgressStyle } from '../options/table';
import type { Logger } from '../util/logger';
import type { Checkpoint, ResumeHint } from './checkpoint';
import type { BackfillProgress } from './progress/model';

export { parseShard, PROGRESS_STYLES, type Shard, type ProgressStyle };

export interface BackfillOptions {
  config: SparseVectorConfig;
  /** Defaults to createEmbedder(config.embedder). */
  embedder?: SparseEmbedder;
  /** Rows per batch (default BACKFILL_DEFAULTS.batchSize; with targetBatchMs, the largest batch). */
  batchSize?: number;
  /** Characters of text per batch at most (the batch still ends at batchSize rows); default: no limit. */
  batchChars?: number;
  /** Concurrent batches (default: 1 with the local embedder, 8 with an HTTP embedder; see defaultWorkers). */
  workers?: number;
  /** Seconds each worker waits between its batches (default BACKFILL_DEFAULTS.delaySeconds). */
  delaySeconds?: number;
  /** Read and embed only, write nothing (default false). */
  dryRun?: boolean;
  /** Rows a dry run reads (default BACKFILL_DEFAULTS.dryRunLimit). */
  dryRunLimit?: number;
  /** Stop after this many rows (default: all). */
  limit?: number;
  shard?: Shard;
  /** Run even if the seeder ledger says the backfill is done (runSeeder only). */
  rerun?: boolean;
  /**
   * runSeeder only: re-embed the whole table with `embedder` (a new embedding space): every stored vector is
   * rewritten in place, resumably, then the ledger records the new embedder (see docs/embedders.md).
   */
  reembed?: boolean;
  /** Stop taking new batches when aborted; in-flight batches finish. */
  signal?: AbortSignal;
  onProgress?: (progress: BackfillProgress) => void;
  logger?: Logger;
  /** Also append the failed rows as JSON lines ({"id","reason"}) to this file. */
  failuresFile?: string;
  /** How to show progress (default: tty on a terminal, plain otherwise). */
  progress?: ProgressStyle;
  /** Where progress goes (default process.stdout). */
  out?: NodeJS.WritableStream;
  /** Plain progress: seconds between lines (default BACKFILL_DEFAULTS.progressIntervalSeconds; json: at most 1). */
  progressIntervalSeconds?: number;
  /** Embedding attempts of a batch before it is split (default BACKFILL_DEFAULTS.embedAttempts). */
  embedAttempts?: number;
  /** Throttle: pause while SHOW GLOBAL STATUS Threads_running is above this (default: no throttle). */
  maxThreadsRunning?: number;
  /** Throttle: adapt the batch size toward this batch duration in ms, up to batchSize (default: fixed size). */
  targetBatchMs?: number;
  /**
   * Start reading after a previous run's checkpoint (the seeder passes the one in its ledger). A hint: the
   * final sweep still takes every row left NULL behind it. Ignored by a dry, limited or sharded run.
   */
  resume?: ResumeHint;
  /** Called when the run's checkpoint moves (the seeder records it in its ledger). */
  onCheckpoint?: (checkpoint: Checkpoint) => void;
}

/** The backfill's defaults and ranges: views of the option table (src/options/table.ts), which defines them. */
export const DEFAULTS = {
  batchSize: BACKFILL.batchSize.default,
  /** Workers with the local embedder, and with an HTTP embedder (qwen, tei): see defaultWorkers. */
  workers: WORKERS.local,
  httpWorkers: WORKERS.http,
  delaySeconds: BACKFILL.delaySeconds.default,
  dryRunLimit: BACKFILL.dryRunLimit.default,
  embedAttempts: BACKFILL.embedAttempts.default,
  progressIntervalSeconds: BACKFILL.progressIntervalSeconds.default,
} as const;
export const LIMITS = Object.fromEntries(
  Object.values(BACKFILL).flatMap((o: OptionSpec) => (o.range ? [[o.name, o.range]] : [])),
) as Record<keyof typeof BACKFILL, { min: number; max: number }>;

/**
 * Workers when none are set. The local embedder: 1 (it runs on this process's CPU; more workers only help on
 * machines with cores to spare, see docs/benchmarks.md). An HTTP embedder: 8, so that enough requests can be
 * in flight to reach a provider's quota at its latency (in flight ≈ quota × latency: 20 requests/s at
 * 200 ms needs 4), while the request limiter lowers the requests in flight and their pace on 429 answers;
 * measured in `npm run bench` (rate-limited case, docs/benchmarks.md).
 */
export function defaultWorkers(provider: string | undefined): number {
  return provider === undefined || provider === 'local' ? DEFAULTS.workers : DEFAULTS.httpWorkers;
}

const OPTIONS_OF_BACKFILL: readonly OptionSpec[] = Object.values(BACKFILL);

/** Validate the options given to the API (numbers, shard, choices), with errors that name the option. */
export function checkBackfillNumbers(o: Partial<BackfillOptions>): void {
  readOptions(
    OPTIONS_OF_BACKFILL,
    (spec) => o[spec.name as keyof BackfillOptions],
    (spec) => ({ kind: 'api', name: spec.name }),
  );
  if (o.reembed && (o.dryRun || splitsTable(o.shard))) {
    throw new SparseVectorError(
      'CONFIG_INVALID',
      `reembed cannot be combined with ${o.dryRun ? 'a dry run' : 'a shard'}: a re-embed is one run over the whole table.`,
      {
        hint: o.dryRun
          ? 'Try the new embedder with a dry run alone (it writes nothing), then re-embed.'
          : 'Run the re-embed without a shard.',
      },
    );
  }
}

/**
 * The dry-run/limit rule, in one place: a limit given with a dry run is the number of rows the dry run
 * reads (dryRunLimit); without a dry run it stops the run after that many rows.
 */
export function withLimitRule(o: Partial<BackfillOptions>): Partial<BackfillOptions> {
  const { limit, ...rest } = o;
  if (limit === undefined) return rest;
  return o.dryRun ? { ...rest, dryRunLimit: limit } : { ...rest, limit };
}

/**
 * Seeder options from the environment (SPARSE_BACKFILL_*), unset variables left out, before the
 * dry-run/limit rule (`npx umzug seed` lays its flags over them first).
 */
export function backfillValuesFromEnv(env: Record<string, string | undefined> = process.env): Partial<BackfillOptions> {
  return readEnvOptions(OPTIONS_OF_BACKFILL, env);
}

/**
 * Seeder options from the environment (SPARSE_BACKFILL_*): the defaults of `npx umzug seed` (its flags
 * override them) and the options of `npx knex seed:run`. Unset variables are left out.
 */
export function backfillOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): Partial<BackfillOptions> {
  return withLimitRule(backfillValuesFromEnv(env));
}
