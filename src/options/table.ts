/**
 * Every option a user can set in more than one way, defined once: its name in the API, its environment
 * variable, its command-line flag (`npx umzug seed`, `npx sparse-vector run`), its script parameter (the
 * script manager's snake_case name), its type, range or allowed values, default and help text. Parsing,
 * validation (options/read.ts and options/settings.ts; embedders/config.ts for the embedder's part in
 * table-embedder.ts; src/config for the connection's and the table's part in table-connection.ts), the `-h`
 * output of both CLIs, the script manager's parameter list and the option tables of README.md,
 * docs/backfill.md and .env.example (written by `npm run docs:options`, scripts/docs-options.ts; test/docs
 * fails when they differ) all come from here; no other file states a default or a range of these options.
 */

import type { OptionSpec } from './spec';
import { CONNECTION, LOGGING, TARGET } from './table-connection';
import { EMBEDDER } from './table-embedder';

export type { OptionSpec, OptionType } from './spec';
export { CONNECTION, EMBEDDER, LOGGING, TARGET };

/** How progress is shown (see backfill/reporter.ts). */
export const PROGRESS_STYLES = ['auto', 'tty', 'plain', 'json', 'none'] as const;
export type ProgressStyle = (typeof PROGRESS_STYLES)[number];

const ALL = Number.MAX_SAFE_INTEGER;
/** Workers when none are set: with the local embedder, and with an HTTP embedder (qwen, tei). */
export const WORKERS = { local: 1, http: 8 } as const;
/** Rows a dry run reads unless a limit is given. */
const DRY_RUN_ROWS = 100;

/** The backfill's options (BackfillOptions), in the order `-h` and `info` list them. */
export const BACKFILL = {
  batchSize: {
    name: 'batchSize',
    env: 'SPARSE_BACKFILL_BATCH_SIZE',
    flag: '--batch-size',
    param: 'batch_size',
    type: 'int',
    range: { min: 1, max: 10_000 },
    default: 100,
    argument: 'N',
    help: 'Rows per batch (with --target-batch-ms, the largest batch).',
    paramHelp: 'Number of records processed per batch',
  },
  batchChars: {
    name: 'batchChars',
    env: 'SPARSE_BACKFILL_BATCH_CHARS',
    flag: '--batch-chars',
    type: 'int',
    range: { min: 1, max: 100_000_000 },
    example: 200_000,
    argument: 'N',
    defaultText: 'off',
    help: 'A batch ends at --batch-size rows or once its texts hold N characters, whichever comes first (default: off). Short texts then go more to a batch, long ones fewer.',
  },
  workers: {
    name: 'workers',
    env: 'SPARSE_BACKFILL_WORKERS',
    flag: '--workers',
    param: 'workers',
    type: 'int',
    range: { min: 1, max: 64 },
    // No single default: it depends on the embedder (WORKERS below, backfill/options.ts defaultWorkers).
    example: WORKERS.local,
    defaultText: `${WORKERS.local} local, ${WORKERS.http} HTTP (qwen, tei)`,
    argument: 'N',
    help: `Concurrent batches (default ${WORKERS.local} with the local embedder, ${WORKERS.http} with qwen and tei, whose requests in flight adapt to 429 answers).`,
    paramHelp: `Number of concurrent workers (default ${WORKERS.local} with the local embedder, ${WORKERS.http} with an HTTP embedder)`,
  },
  delaySeconds: {
    name: 'delaySeconds',
    env: 'SPARSE_BACKFILL_DELAY',
    flag: '--delay',
    param: 'delay',
    type: 'float',
    range: { min: 0, max: 3600 },
    default: 0.1,
    argument: 'SECONDS',
    help: 'Pause of each worker between its batches, in seconds.',
    paramHelp: 'Delay between batches of a worker (seconds)',
  },
  dryRun: {
    name: 'dryRun',
    env: 'SPARSE_BACKFILL_DRY_RUN',
    flag: '--dry-run',
    param: 'dry_run',
    type: 'bool',
    default: false,
    help: `Read and embed the first rows (${DRY_RUN_ROWS}, or --limit), write nothing, report the rate.`,
    paramHelp: `Test mode: only processes ${DRY_RUN_ROWS} records (or limit) and does not write to the database`,
  },
  limit: {
    name: 'limit',
    env: 'SPARSE_BACKFILL_LIMIT',
    flag: '--limit',
    param: 'limit',
    type: 'int',
    range: { min: 1, max: ALL },
    argument: 'N',
    defaultText: 'all',
    help: `Stop after N rows (default: all; with --dry-run: the rows to test, default ${DRY_RUN_ROWS}).`,
    paramHelp: 'Stop after this many records (dry run: records to test)',
  },
  dryRunLimit: {
    name: 'dryRunLimit',
    type: 'int',
    range: { min: 1, max: 1_000_000 },
    default: DRY_RUN_ROWS,
    help: 'Rows a dry run reads (a limit given with a dry run sets it).',
  },
  shard: {
    name: 'shard',
    env: 'SPARSE_BACKFILL_SHARD',
    flag: '--shard',
    param: 'shard',
    type: 'shard',
    example: '0/3',
    argument: 'SHARD',
    defaultText: 'none',
    help: 'Process only shard I of N (rows with CRC32(id) MOD N = I); run N processes with 0/N ... N-1/N.',
    paramHelp: 'i/n: process only shard i of n',
  },
  rerun: {
    name: 'rerun',
    env: 'SPARSE_BACKFILL_RERUN',
    flag: '--rerun',
    param: 'rerun',
    type: 'bool',
    default: false,
    help: 'Run even if the seeds ledger says done (embeds rows that became NULL since).',
    paramHelp: 'Run even if the seeder ledger says the backfill is done',
  },
  reembed: {
    name: 'reembed',
    env: 'SPARSE_BACKFILL_REEMBED',
    flag: '--reembed',
    param: 'reembed',
    type: 'bool',
    default: false,
    help: 'Change the embedder: rewrite every stored vector with the configured embedder, in place and resumably, then record it as the table\'s embedder (see docs/embedders.md, "Changing the embedder").',
    paramHelp: 'Re-embed every stored vector with the configured embedder (changing the embedder; resumable)',
  },
  failuresFile: {
    name: 'failuresFile',
    env: 'SPARSE_BACKFILL_FAILURES_FILE',
    flag: '--failures-file',
    param: 'failures_file',
    type: 'string',
    example: 'failed.jsonl',
    argument: 'FILE',
    defaultText: 'none',
    help: 'Append failed rows as JSON lines {"id","reason"} to FILE.',
    paramHelp: 'Append failed rows as JSON lines to this file',
  },
  progress: {
    name: 'progress',
    env: 'SPARSE_BACKFILL_PROGRESS',
    flag: '--progress',
    type: 'choice',
    choices: PROGRESS_STYLES,
    default: 'auto',
    help: 'Progress display: tty (redrawn in place), plain (a line every few seconds), json, none; auto: tty on a terminal, plain otherwise.',
  },
  progressIntervalSeconds: {
    name: 'progressIntervalSeconds',
    env: 'SPARSE_BACKFILL_PROGRESS_INTERVAL',
    flag: '--progress-interval',
    type: 'float',
    range: { min: 0, max: 3600 },
    default: 5,
    argument: 'SECONDS',
    help: 'Seconds between plain progress lines.',
  },
  maxThreadsRunning: {
    name: 'maxThreadsRunning',
    env: 'SPARSE_BACKFILL_MAX_THREADS_RUNNING',
    flag: '--max-threads-running',
    type: 'int',
    range: { min: 1, max: 100_000 },
    example: 50,
    argument: 'N',
    defaultText: 'off',
    help: "Throttle: pause while the server's Threads_running is above N (counts this run's own queries too; default: off).",
  },
  targetBatchMs: {
    name: 'targetBatchMs',
    env: 'SPARSE_BACKFILL_TARGET_BATCH_MS',
    flag: '--target-batch-ms',
    type: 'int',
    range: { min: 10, max: 3_600_000 },
    example: 500,
    argument: 'MS',
    defaultText: 'off',
    help: 'Throttle: adapt the batch size (up to --batch-size) so that a batch takes about MS milliseconds (default: off).',
  },
  embedAttempts: {
    name: 'embedAttempts',
    type: 'int',
    range: { min: 1, max: 20 },
    default: 3,
    help: 'Embedding attempts of a batch before it is split.',
  },
} as const satisfies Record<string, OptionSpec>;

/** Options of the configuration (SparseVectorConfig) and of the embedder that a flag or the table's docs name. */
export const SETTINGS = {
  /** The embedder's, in the embedder part of the table: `npx umzug seed` has a flag for it. */
  maxRequestsPerMinute: EMBEDDER.maxRequestsPerMinute,
  lockTimeoutSeconds: {
    name: 'lockTimeoutSeconds',
    env: 'SPARSE_LOCK_TIMEOUT',
    type: 'int',
    range: { min: 0, max: 86_400 },
    default: 120,
    help: "Seconds a run waits for another run's lock before giving up.",
  },
  storage: {
    name: 'storage',
    env: 'SPARSE_VECTOR_STORAGE',
    type: 'choice',
    choices: ['native', 'json'],
    default: 'native',
    help: 'native = SPARSEVECTOR column + sparse vector index (OceanBase >= 4.5.0, seekdb); json = portable mode (any MySQL-family server).',
  },
} as const satisfies Record<string, OptionSpec>;

/** Rows a search returns (`npx sparse-vector search`, `verify`): the CLI flag of sparseSearch's `limit`. */
export const SEARCH = {
  limit: {
    name: 'limit',
    flag: '--limit',
    type: 'int',
    range: { min: 1, max: 16_384 },
    default: 10,
    argument: 'N',
    help: 'Rows to return (top-k).',
  },
} as const satisfies Record<string, OptionSpec>;

/** The confirmation of the destructive downgrade script (a script parameter and its flag only). */
export const CONFIRM = {
  yes: {
    name: 'yes',
    flag: '--yes',
    param: 'yes',
    type: 'bool',
    default: false,
    help: 'Confirm the deletion without asking (required when not on a terminal).',
  },
} as const satisfies Record<string, OptionSpec>;

/** Every option of the table, each once. */
export const OPTIONS: readonly OptionSpec[] = [
  ...new Set<OptionSpec>([
    ...Object.values(CONNECTION),
    ...Object.values(TARGET),
    ...Object.values(LOGGING),
    ...Object.values(BACKFILL),
    ...Object.values(SETTINGS),
    ...Object.values(EMBEDDER),
    ...Object.values(SEARCH),
    ...Object.values(CONFIRM),
  ]),
];

/** The flags of `npx umzug seed`, in `-h` order. */
export const SEED_FLAGS: readonly OptionSpec[] = [
  ...Object.values(BACKFILL).filter((o: OptionSpec) => o.flag),
  SETTINGS.maxRequestsPerMinute,
];

/** The parameters of migrate-sparse-vector, in `info` order. */
export const MIGRATE_PARAMS: readonly OptionSpec[] = Object.values(BACKFILL).filter((o: OptionSpec) => o.param);
