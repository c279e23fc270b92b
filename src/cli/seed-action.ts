/* eslint-disable max-lines-per-function -- TEMPORARY until the flag definitions move to the option table / one CLI parser (issue 13 items 2-3). */
import {
  CommandLineAction,
  type CommandLineChoiceParameter,
  type CommandLineFlagParameter,
  type CommandLineStringParameter,
} from '@rushstack/ts-command-line';
import {
  BACKFILL_DEFAULTS,
  BACKFILL_LIMITS,
  backfillOptionsFromEnv,
  parseShard,
  PROGRESS_STYLES,
  runSeeder,
  type BackfillOptions,
  type ProgressStyle,
} from '../backfill';
import type { SparseVectorConfig } from '../config/config';
import type { Logger } from '../util/logger';
import { EXIT, formatError } from './errors';
import { flagValueError, integerFlag, numberFlag } from './flag-value';

/** Exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT), as shells report an interrupted command. */
export const EXIT_STOPPED = 130;

/**
 * `npx umzug seed`: run the backfill seeder. Flags override the SPARSE_BACKFILL_* variables, which override
 * the defaults. Every value is checked before the database is touched. SIGINT/SIGTERM stop taking new
 * batches, let in-flight ones finish and print the summary (exit 130); a second signal exits at once
 * (nothing is lost either way: the rows still NULL are the state).
 * Exit codes: 0 all rows done, 1 failed rows / run error / another run busy, 2 unknown flag or bad flag value, 130 stopped.
 */
export class SeedAction extends CommandLineAction {
  exitCode: number = EXIT.ok;
  private batchSize!: CommandLineStringParameter;
  private workers!: CommandLineStringParameter;
  private maxRequestsPerMinute!: CommandLineStringParameter;
  private delay!: CommandLineStringParameter;
  private limit!: CommandLineStringParameter;
  private shard!: CommandLineStringParameter;
  private failuresFile!: CommandLineStringParameter;
  private progress!: CommandLineChoiceParameter;
  private progressInterval!: CommandLineStringParameter;
  private maxThreadsRunning!: CommandLineStringParameter;
  private targetBatchMs!: CommandLineStringParameter;
  private dryRun!: CommandLineFlagParameter;
  private rerun!: CommandLineFlagParameter;
  private reembed!: CommandLineFlagParameter;
  private json!: CommandLineFlagParameter;

  constructor(
    private readonly config: SparseVectorConfig,
    private readonly logger: Logger,
  ) {
    super({
      actionName: 'seed',
      summary: 'Backfills sparse_embedding for rows where it is NULL (the data seeder)',
      documentation:
        'Embeds the text of every row whose sparse_embedding is NULL (empty texts are left NULL), in batches, with ' +
        'concurrent workers, and records the run in the seeds ledger (SPARSE_SEEDS_TABLE, default sparse_vector_seeds). ' +
        'Resumable: after a stop or a crash, run the same command again and it continues with the rows still NULL. ' +
        'Defaults come from SPARSE_BACKFILL_* (see .env.example). ' +
        'Exit codes: 0 done, 1 failed rows or error, 2 bad usage, 130 stopped by SIGINT/SIGTERM.',
    });
    this.batchSize = this.defineStringParameter({
      parameterLongName: '--batch-size',
      argumentName: 'N',
      description: `Rows per batch, ${BACKFILL_LIMITS.batchSize.min}..${BACKFILL_LIMITS.batchSize.max} (default ${BACKFILL_DEFAULTS.batchSize}).`,
    });
    this.workers = this.defineStringParameter({
      parameterLongName: '--workers',
      argumentName: 'N',
      description: `Concurrent batches, ${BACKFILL_LIMITS.workers.min}..${BACKFILL_LIMITS.workers.max} (default ${BACKFILL_DEFAULTS.workers} with the local embedder, ${BACKFILL_DEFAULTS.httpWorkers} with qwen and tei, whose requests in flight adapt to 429 answers).`,
    });
    this.delay = this.defineStringParameter({
      parameterLongName: '--delay',
      argumentName: 'SECONDS',
      description: `Pause of each worker between its batches, >= 0 (default ${BACKFILL_DEFAULTS.delaySeconds}).`,
    });
    this.limit = this.defineStringParameter({
      parameterLongName: '--limit',
      argumentName: 'N',
      description: 'Stop after N rows (with --dry-run: rows to test, default 100).',
    });
    this.shard = this.defineStringParameter({
      parameterLongName: '--shard',
      argumentName: 'SHARD',
      description:
        'I/N: process only shard I of N (rows with CRC32(id) MOD N = I); run N processes with 0/N ... N-1/N.',
    });
    this.failuresFile = this.defineStringParameter({
      parameterLongName: '--failures-file',
      argumentName: 'FILE',
      description: 'Append failed rows as JSON lines {"id","reason"} to FILE.',
    });
    this.progress = this.defineChoiceParameter({
      parameterLongName: '--progress',
      alternatives: [...PROGRESS_STYLES],
      description:
        'Progress display: tty (redrawn in place), plain (a line every few seconds), json, none (default auto: tty on a terminal, plain otherwise).',
    });
    this.progressInterval = this.defineStringParameter({
      parameterLongName: '--progress-interval',
      argumentName: 'SECONDS',
      description: `Seconds between plain progress lines (default ${BACKFILL_DEFAULTS.progressIntervalSeconds}).`,
    });
    this.maxThreadsRunning = this.defineStringParameter({
      parameterLongName: '--max-threads-running',
      argumentName: 'N',
      description: "Throttle: pause while the server's Threads_running is above N (counts this run's own queries too).",
    });
    this.targetBatchMs = this.defineStringParameter({
      parameterLongName: '--target-batch-ms',
      argumentName: 'MS',
      description: 'Throttle: adapt the batch size (up to --batch-size) so that a batch takes about MS milliseconds.',
    });
    this.maxRequestsPerMinute = this.defineStringParameter({
      parameterLongName: '--max-requests-per-minute',
      argumentName: 'N',
      description:
        'HTTP embedders (qwen, tei): start at most N requests per minute, to stay under a known quota (default SPARSE_EMBEDDER_RPM, else no cap).',
    });
    this.dryRun = this.defineFlagParameter({
      parameterLongName: '--dry-run',
      description: 'Read and embed the first rows (100, or --limit), write nothing, report the rate.',
    });
    this.rerun = this.defineFlagParameter({
      parameterLongName: '--rerun',
      description: 'Run even if the ledger says done (embeds rows that became NULL since).',
    });
    this.reembed = this.defineFlagParameter({
      parameterLongName: '--reembed',
      description:
        'Change the embedder: rewrite every stored vector with the configured embedder, in place and resumably, then record it as the table\'s embedder (see docs/embedders.md, "Changing the embedder").',
    });
    this.json = this.defineFlagParameter({
      parameterLongName: '--json',
      description: 'One JSON event per line on stdout (start, progress, batch-failed, row-failed, done).',
    });
  }

  /** The run's options: flags over SPARSE_BACKFILL_* over defaults, all validated (throws CONFIG_INVALID). */
  private options(): BackfillOptions {
    const env = backfillOptionsFromEnv();
    // A flag given with an empty value (--delay '') is an error, not "unset": the value is checked as typed.
    const int = (
      p: CommandLineStringParameter,
      range: { min: number; max: number },
      fallback: number | undefined,
      example: number,
    ) => (p.value === undefined ? fallback : integerFlag(p.longName, p.value, range, example));
    const num = (
      p: CommandLineStringParameter,
      range: { min: number; max: number },
      fallback: number | undefined,
      example: number,
    ) => (p.value === undefined ? fallback : numberFlag(p.longName, p.value, range, example));
    const dryRun = this.dryRun.value || !!env.dryRun;
    const limit = int(this.limit, BACKFILL_LIMITS.limit, env.limit ?? env.dryRunLimit, BACKFILL_LIMITS.limit.min);
    const rpm = int(this.maxRequestsPerMinute, { min: 1, max: 10_000_000 }, undefined, 1200);
    const embedder = rpm === undefined ? this.config.embedder : { ...this.config.embedder, maxRequestsPerMinute: rpm };
    return {
      ...env,
      config: { ...this.config, embedder },
      logger: this.logger,
      batchSize: int(this.batchSize, BACKFILL_LIMITS.batchSize, env.batchSize, BACKFILL_DEFAULTS.batchSize),
      // Unset: the engine's default for the embedder (defaultWorkers).
      workers: int(this.workers, BACKFILL_LIMITS.workers, env.workers, BACKFILL_DEFAULTS.workers),
      delaySeconds: num(this.delay, BACKFILL_LIMITS.delaySeconds, env.delaySeconds, BACKFILL_DEFAULTS.delaySeconds),
      shard: this.shard.value !== undefined ? shardFlag(this.shard.value) : env.shard,
      dryRun,
      dryRunLimit: dryRun ? limit : undefined,
      limit: dryRun ? undefined : limit,
      rerun: this.rerun.value || !!env.rerun,
      reembed: this.reembed.value || !!env.reembed,
      failuresFile: this.failuresFile.value ?? env.failuresFile,
      progress: this.json.value
        ? 'json'
        : ((this.progress.value as ProgressStyle | undefined) ?? env.progress ?? 'auto'),
      progressIntervalSeconds: num(
        this.progressInterval,
        BACKFILL_LIMITS.progressIntervalSeconds,
        env.progressIntervalSeconds,
        BACKFILL_DEFAULTS.progressIntervalSeconds,
      ),
      maxThreadsRunning: int(this.maxThreadsRunning, BACKFILL_LIMITS.maxThreadsRunning, env.maxThreadsRunning, 50),
      targetBatchMs: int(this.targetBatchMs, BACKFILL_LIMITS.targetBatchMs, env.targetBatchMs, 500),
    };
  }

  protected override async onExecute(): Promise<void> {
    const options = this.options();
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(
          `\n${sig} received again: exiting now. Rows not yet written stay NULL; run the same command again to continue.\n`,
        );
        process.exit(EXIT_STOPPED);
      }
      process.stderr.write(
        `\n${sig} received: finishing the batches in flight, then stopping (send it again to exit at once)...\n`,
      );
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const result = await runSeeder({ ...options, signal: controller.signal });
      if (result.error) process.stderr.write(formatError(result.error) + '\n');
      if (result.skippedReason === 'busy') this.exitCode = EXIT.failed;
      else if (result.ok) this.exitCode = EXIT.ok;
      else if (result.stopped && !result.failed) this.exitCode = EXIT_STOPPED;
      else this.exitCode = EXIT.failed;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

/** --shard i/n, with the usage error of the other flags. */
function shardFlag(value: string) {
  let shard;
  try {
    shard = parseShard(value);
  } catch {
    // reported below, as a usage error naming the flag
  }
  if (!shard) throw flagValueError('--shard', value, 'a shard "i/n" with 0 <= i < n <= 1024', '0/3');
  return shard;
}
