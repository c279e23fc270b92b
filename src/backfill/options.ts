import type { SparseVectorConfig } from '../config/config';
import { parseBoolean, parseInteger, parseNumber } from '../config/parse';
import type { SparseEmbedder } from '../embedders/types';
import { SvmError } from '../errors';
import type { Logger } from '../util/logger';
import type { BackfillProgress } from './progress/model';

/** A slice of the table: rows whose id falls in shard `index` of `count` (see reader.ts). */
export interface Shard {
  index: number;
  count: number;
}

export type ProgressStyle = 'auto' | 'tty' | 'plain' | 'json' | 'none';

export interface BackfillOptions {
  config: SparseVectorConfig;
  /** Defaults to createEmbedder(config.embedder). */
  embedder?: SparseEmbedder;
  /** Rows per batch (default 100). */
  batchSize?: number;
  /** Concurrent batches (default 1). */
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
  /** Run even if the seeder ledger says the backfill is done. */
  rerun?: boolean;
  /** Stop taking new batches when aborted; in-flight batches finish. */
  signal?: AbortSignal;
  onProgress?: (progress: BackfillProgress) => void;
  logger?: Logger;
  /** Also write the failed rows as JSON lines to this file. */
  failuresFile?: string;
  /** How to show progress (default: tty on a terminal, plain otherwise). */
  progress?: ProgressStyle;
  /** Where progress goes (default process.stdout). */
  out?: NodeJS.WritableStream;
  /** Plain progress: seconds between lines (default 5). */
  progressIntervalSeconds?: number;
  /** Embedding attempts of a batch before it is split (default 3). */
  embedAttempts?: number;
  /** Pause while SHOW GLOBAL STATUS Threads_running is above this (default: no throttle). */
  maxThreadsRunning?: number;
  /** Adapt the batch size toward this batch duration in ms (default: fixed batch size). */
  targetBatchMs?: number;
}

export const DEFAULTS = { batchSize: 100, workers: 1, delaySeconds: 0.1, dryRunLimit: 100, embedAttempts: 3 } as const;
export const LIMITS = { batchSize: { min: 1, max: 10_000 }, workers: { min: 1, max: 64 }, delaySeconds: { min: 0, max: 3600 } } as const;

export function parseShard(text: string | undefined, name = '--shard'): Shard | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > 1024 || index >= count) {
    throw new SvmError('CONFIG_INVALID', `${name} ${JSON.stringify(text)} is not a shard "i/n" with 0 <= i < n <= 1024.`, {
      hint: 'Run n processes with --shard 0/n, --shard 1/n, ... --shard (n-1)/n; together they cover the table once.',
    });
  }
  return { index, count };
}

/** Validate numeric options (from flags, env or objects) with errors that name the option. */
export function checkBackfillNumbers(o: { batchSize?: number; workers?: number; delaySeconds?: number; dryRunLimit?: number; limit?: number }): void {
  parseInteger(o.batchSize, 'batch size', DEFAULTS.batchSize, LIMITS.batchSize);
  parseInteger(o.workers, 'workers', DEFAULTS.workers, LIMITS.workers);
  parseNumber(o.delaySeconds, 'delay', DEFAULTS.delaySeconds, LIMITS.delaySeconds);
  parseInteger(o.dryRunLimit, 'dry-run limit', DEFAULTS.dryRunLimit, { min: 1, max: 1_000_000 });
  parseInteger(o.limit, 'limit', 1, { min: 1, max: Number.MAX_SAFE_INTEGER });
}

/** Seeder defaults from the environment (SPARSE_BACKFILL_*), used by `knex seed:run`. */
export function backfillOptionsFromEnv(env: Record<string, string | undefined> = process.env): Partial<BackfillOptions> {
  return {
    batchSize: parseInteger(env.SPARSE_BACKFILL_BATCH_SIZE, 'SPARSE_BACKFILL_BATCH_SIZE', DEFAULTS.batchSize, LIMITS.batchSize),
    workers: parseInteger(env.SPARSE_BACKFILL_WORKERS, 'SPARSE_BACKFILL_WORKERS', DEFAULTS.workers, LIMITS.workers),
    delaySeconds: parseNumber(env.SPARSE_BACKFILL_DELAY, 'SPARSE_BACKFILL_DELAY', DEFAULTS.delaySeconds, LIMITS.delaySeconds),
    dryRun: parseBoolean(env.SPARSE_BACKFILL_DRY_RUN, 'SPARSE_BACKFILL_DRY_RUN', false),
    rerun: parseBoolean(env.SPARSE_BACKFILL_RERUN, 'SPARSE_BACKFILL_RERUN', false),
    shard: parseShard(env.SPARSE_BACKFILL_SHARD, 'SPARSE_BACKFILL_SHARD'),
  };
}
