import type { SparseVectorConfig } from '../config/config';
import { parseBoolean, parseChoice, parseInteger, parseNumber } from '../config/parse';
import type { SparseEmbedder } from '../embedders/types';
import { SparseVectorError } from '../errors';
import type { Logger } from '../util/logger';
import type { Checkpoint, ResumeHint } from './checkpoint';
import type { BackfillProgress } from './progress/model';

/** A slice of the table: rows whose id falls in shard `index` of `count` (see reader.ts). */
export interface Shard {
  index: number;
  count: number;
}

export type ProgressStyle = 'auto' | 'tty' | 'plain' | 'json' | 'none';
export const PROGRESS_STYLES: readonly ProgressStyle[] = ['auto', 'tty', 'plain', 'json', 'none'];

export interface BackfillOptions {
  config: SparseVectorConfig;
  /** Defaults to createEmbedder(config.embedder). */
  embedder?: SparseEmbedder;
  /** Rows per batch (default 100; with targetBatchMs, the largest batch). */
  batchSize?: number;
  /** Concurrent batches (default: 1 with the local embedder, 8 with an HTTP embedder; see defaultWorkers). */
  workers?: number;
  /** Seconds each worker waits between its batches (default 0.1). */
  delaySeconds?: number;
  /** Read and embed only, write nothing (default false). */
  dryRun?: boolean;
  /** Rows a dry run reads (default 100). */
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
  /** Plain progress: seconds between lines (default 5; json: at most 1). */
  progressIntervalSeconds?: number;
  /** Embedding attempts of a batch before it is split (default 3). */
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

export const DEFAULTS = {
  batchSize: 100,
  workers: 1,
  /** Workers with an HTTP embedder (qwen, tei): see defaultWorkers. */
  httpWorkers: 8,
  delaySeconds: 0.1,
  dryRunLimit: 100,
  embedAttempts: 3,
  progressIntervalSeconds: 5,
} as const;
export const LIMITS = {
  batchSize: { min: 1, max: 10_000 },
  workers: { min: 1, max: 64 },
  delaySeconds: { min: 0, max: 3600 },
  limit: { min: 1, max: Number.MAX_SAFE_INTEGER },
  dryRunLimit: { min: 1, max: 1_000_000 },
  embedAttempts: { min: 1, max: 20 },
  progressIntervalSeconds: { min: 0, max: 3600 },
  maxThreadsRunning: { min: 1, max: 100_000 },
  targetBatchMs: { min: 10, max: 3_600_000 },
} as const;

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

export function parseShard(text: string | undefined, name = '--shard'): Shard | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > 1024 || index >= count) {
    throw new SparseVectorError(
      'CONFIG_INVALID',
      `${name} ${JSON.stringify(text)} is not a shard "i/n" with 0 <= i < n <= 1024.`,
      {
        hint: 'Run n processes with --shard 0/n, --shard 1/n, ... --shard (n-1)/n; together they cover the table once.',
      },
    );
  }
  return { index, count };
}

/** Validate the numeric options (from flags, env or objects) with errors that name the option. */
export function checkBackfillNumbers(o: Partial<BackfillOptions>): void {
  parseInteger(o.batchSize, 'batchSize', DEFAULTS.batchSize, LIMITS.batchSize);
  parseInteger(o.workers, 'workers', DEFAULTS.workers, LIMITS.workers);
  parseNumber(o.delaySeconds, 'delaySeconds', DEFAULTS.delaySeconds, LIMITS.delaySeconds);
  parseInteger(o.dryRunLimit, 'dryRunLimit', DEFAULTS.dryRunLimit, LIMITS.dryRunLimit);
  parseInteger(o.limit, 'limit', 1, LIMITS.limit);
  parseInteger(o.embedAttempts, 'embedAttempts', DEFAULTS.embedAttempts, LIMITS.embedAttempts);
  parseNumber(
    o.progressIntervalSeconds,
    'progressIntervalSeconds',
    DEFAULTS.progressIntervalSeconds,
    LIMITS.progressIntervalSeconds,
  );
  parseInteger(o.maxThreadsRunning, 'maxThreadsRunning', 1, LIMITS.maxThreadsRunning);
  parseInteger(o.targetBatchMs, 'targetBatchMs', 1000, LIMITS.targetBatchMs);
  if (o.reembed && (o.dryRun || (o.shard && o.shard.count > 1))) {
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
  if (
    o.shard &&
    (!Number.isInteger(o.shard.index) ||
      !Number.isInteger(o.shard.count) ||
      o.shard.index < 0 ||
      o.shard.index >= o.shard.count)
  ) {
    throw new SparseVectorError(
      'CONFIG_INVALID',
      `shard ${JSON.stringify(o.shard)} is not a shard {index, count} with 0 <= index < count.`,
    );
  }
}

/**
 * Seeder options from the environment (SPARSE_BACKFILL_*): the defaults of `npx umzug seed` (its flags
 * override them) and the options of `npx knex seed:run`. Unset variables are left out.
 */
export function backfillOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): Partial<BackfillOptions> {
  const o: Partial<BackfillOptions> = {};
  const int = (name: string, range: { min: number; max: number }) =>
    env[name] ? parseInteger(env[name], name, 0, range) : undefined;
  const num = (name: string, range: { min: number; max: number }) =>
    env[name] ? parseNumber(env[name], name, 0, range) : undefined;
  o.batchSize = int('SPARSE_BACKFILL_BATCH_SIZE', LIMITS.batchSize);
  o.workers = int('SPARSE_BACKFILL_WORKERS', LIMITS.workers);
  o.delaySeconds = num('SPARSE_BACKFILL_DELAY', LIMITS.delaySeconds);
  o.dryRun = env.SPARSE_BACKFILL_DRY_RUN
    ? parseBoolean(env.SPARSE_BACKFILL_DRY_RUN, 'SPARSE_BACKFILL_DRY_RUN', false)
    : undefined;
  o.rerun = env.SPARSE_BACKFILL_RERUN
    ? parseBoolean(env.SPARSE_BACKFILL_RERUN, 'SPARSE_BACKFILL_RERUN', false)
    : undefined;
  o.reembed = env.SPARSE_BACKFILL_REEMBED
    ? parseBoolean(env.SPARSE_BACKFILL_REEMBED, 'SPARSE_BACKFILL_REEMBED', false)
    : undefined;
  o.shard = parseShard(env.SPARSE_BACKFILL_SHARD, 'SPARSE_BACKFILL_SHARD');
  const limit = int('SPARSE_BACKFILL_LIMIT', LIMITS.limit);
  if (limit !== undefined) {
    if (o.dryRun) o.dryRunLimit = limit;
    else o.limit = limit;
  }
  o.failuresFile = env.SPARSE_BACKFILL_FAILURES_FILE || undefined;
  o.progress = env.SPARSE_BACKFILL_PROGRESS
    ? parseChoice(env.SPARSE_BACKFILL_PROGRESS, 'SPARSE_BACKFILL_PROGRESS', PROGRESS_STYLES, 'auto')
    : undefined;
  o.progressIntervalSeconds = num('SPARSE_BACKFILL_PROGRESS_INTERVAL', LIMITS.progressIntervalSeconds);
  o.maxThreadsRunning = int('SPARSE_BACKFILL_MAX_THREADS_RUNNING', LIMITS.maxThreadsRunning);
  o.targetBatchMs = int('SPARSE_BACKFILL_TARGET_BATCH_MS', LIMITS.targetBatchMs);
  for (const k of Object.keys(o) as Array<keyof BackfillOptions>) if (o[k] === undefined) delete o[k];
  return o;
}
