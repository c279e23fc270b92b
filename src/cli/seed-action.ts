import { CommandLineAction, type CommandLineFlagParameter } from '@rushstack/ts-command-line';
import { backfillValuesFromEnv, runSeeder, withLimitRule, type BackfillOptions } from '../backfill';
import type { SparseVectorConfig } from '../config/config';
import { SEED_FLAGS, TARGET } from '../options/table';
import type { Logger } from '../util/logger';
import { EXIT, formatError } from './errors';
import { TableParameters } from './table-parameters';

/** Exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT), as shells report an interrupted command. */
export const EXIT_STOPPED = 130;

const SEEDS = TARGET.seedsTable;

/**
 * `npx umzug seed`: run the backfill seeder. Flags override the SPARSE_BACKFILL_* variables, which override
 * the defaults. Every value is checked before the database is touched. SIGINT/SIGTERM stop taking new
 * batches, let in-flight ones finish and print the summary (exit 130); a second signal exits at once
 * (nothing is lost either way: the rows still NULL are the state).
 * Exit codes: 0 all rows done, 1 failed rows / run error / another run busy, 2 unknown flag or bad flag value, 130 stopped.
 */
export class SeedAction extends CommandLineAction {
  exitCode: number = EXIT.ok;
  private readonly flags: TableParameters;
  private readonly json: CommandLineFlagParameter;

  constructor(
    private readonly config: SparseVectorConfig,
    private readonly logger: Logger,
  ) {
    super({
      actionName: 'seed',
      summary: 'Backfills sparse_embedding for rows where it is NULL (the data seeder)',
      documentation:
        'Embeds the text of every row whose sparse_embedding is NULL (empty texts are left NULL), in batches, with ' +
        `concurrent workers, and records the run in the seeds ledger (${SEEDS.env}, default ${SEEDS.default}). ` +
        'Resumable: after a stop or a crash, run the same command again and it continues with the rows still NULL. ' +
        'Each flag overrides its SPARSE_BACKFILL_* variable (see .env.example). ' +
        'Exit codes: 0 done, 1 failed rows or error, 2 bad usage, 130 stopped by SIGINT/SIGTERM.',
    });
    this.flags = new TableParameters(this, SEED_FLAGS);
    this.json = this.defineFlagParameter({
      parameterLongName: '--json',
      description:
        'One JSON event per line on stdout (start, progress, batch-failed, row-failed, done); same as --progress json.',
    });
  }

  /** The run's options: flags over SPARSE_BACKFILL_* over defaults, all validated (throws before the database is touched). */
  private options(): BackfillOptions {
    const { maxRequestsPerMinute: rpm, ...flags } = this.flags.values();
    const merged: Partial<BackfillOptions> = { ...backfillValuesFromEnv(), ...flags };
    if (this.json.value) merged.progress = 'json';
    const embedder =
      rpm === undefined ? this.config.embedder : { ...this.config.embedder, maxRequestsPerMinute: rpm as number };
    return {
      ...withLimitRule(merged),
      progress: merged.progress ?? 'auto',
      config: { ...this.config, embedder },
      logger: this.logger,
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
