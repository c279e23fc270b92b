import { CommandLineAction, type CommandLineFlagParameter, type CommandLineStringParameter, type CommandLineChoiceParameter } from '@rushstack/ts-command-line';
import type { SparseVectorConfig } from '../config/config';
import { parseInteger, parseNumber } from '../config/parse';
import { BACKFILL_DEFAULTS, parseShard, runSeeder, type ProgressStyle } from '../backfill';
import { LIMITS } from '../backfill/options';
import type { Logger } from '../util/logger';
import { EXIT } from './errors';

/**
 * `npx umzug seed`: run the backfill seeder. SIGINT/SIGTERM stop taking new batches, let in-flight ones
 * finish and print the summary; a second signal exits at once (nothing is lost either way).
 */
export class SeedAction extends CommandLineAction {
  exitCode: number = EXIT.ok;
  private batchSize!: CommandLineStringParameter;
  private workers!: CommandLineStringParameter;
  private delay!: CommandLineStringParameter;
  private limit!: CommandLineStringParameter;
  private shard!: CommandLineStringParameter;
  private failuresFile!: CommandLineStringParameter;
  private progress!: CommandLineChoiceParameter;
  private dryRun!: CommandLineFlagParameter;
  private rerun!: CommandLineFlagParameter;
  private json!: CommandLineFlagParameter;

  constructor(
    private readonly config: SparseVectorConfig,
    private readonly logger: Logger,
  ) {
    super({
      actionName: 'seed',
      summary: 'Backfills sparse_embedding for rows where it is NULL (the data seeder)',
      documentation:
        'Embeds the text of every row whose sparse_embedding is NULL, in batches, with concurrent workers. ' +
        'Resumable: run it again after a stop or a crash and it continues with the rows still NULL.',
    });
    this.batchSize = this.defineStringParameter({ parameterLongName: '--batch-size', argumentName: 'N', description: `Rows per batch (default ${BACKFILL_DEFAULTS.batchSize}).` });
    this.workers = this.defineStringParameter({ parameterLongName: '--workers', argumentName: 'N', description: `Concurrent batches (default ${BACKFILL_DEFAULTS.workers}).` });
    this.delay = this.defineStringParameter({ parameterLongName: '--delay', argumentName: 'SECONDS', description: `Pause of each worker between its batches (default ${BACKFILL_DEFAULTS.delaySeconds}).` });
    this.limit = this.defineStringParameter({ parameterLongName: '--limit', argumentName: 'N', description: 'Stop after N rows (dry run: rows to test, default 100).' });
    this.shard = this.defineStringParameter({ parameterLongName: '--shard', argumentName: 'SHARD', description: 'i/n: process only shard i of n (run n processes with 0/n ... n-1/n).' });
    this.failuresFile = this.defineStringParameter({ parameterLongName: '--failures-file', argumentName: 'FILE', description: 'Append failed rows as JSON lines to FILE.' });
    this.progress = this.defineChoiceParameter({ parameterLongName: '--progress', alternatives: ['auto', 'tty', 'plain', 'json', 'none'], description: 'Progress display (default: tty on a terminal, plain otherwise).' });
    this.dryRun = this.defineFlagParameter({ parameterLongName: '--dry-run', description: 'Read and embed the first rows (100, or --limit), write nothing.' });
    this.rerun = this.defineFlagParameter({ parameterLongName: '--rerun', description: 'Run even if the ledger says done (rows that became NULL later).' });
    this.json = this.defineFlagParameter({ parameterLongName: '--json', description: 'One JSON event per line on stdout.' });
  }

  protected override async onExecute(): Promise<void> {
    const dryRun = this.dryRun.value;
    const limit = this.limit.value === undefined ? undefined : parseInteger(this.limit.value, '--limit', 1, { min: 1, max: Number.MAX_SAFE_INTEGER });
    const options = {
      config: this.config,
      logger: this.logger,
      batchSize: parseInteger(this.batchSize.value, '--batch-size', BACKFILL_DEFAULTS.batchSize, LIMITS.batchSize),
      workers: parseInteger(this.workers.value, '--workers', BACKFILL_DEFAULTS.workers, LIMITS.workers),
      delaySeconds: parseNumber(this.delay.value, '--delay', BACKFILL_DEFAULTS.delaySeconds, LIMITS.delaySeconds),
      shard: parseShard(this.shard.value),
      dryRun,
      dryRunLimit: dryRun ? limit : undefined,
      limit: dryRun ? undefined : limit,
      rerun: this.rerun.value,
      failuresFile: this.failuresFile.value,
      progress: (this.json.value ? 'json' : (this.progress.value ?? 'auto')) as ProgressStyle,
    };
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) process.exit(130);
      process.stderr.write(`\n${sig} received: finishing the batches in flight, then stopping (send it again to exit at once)...\n`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const result = await runSeeder({ ...options, signal: controller.signal });
      this.exitCode = result.skippedReason === 'busy' ? EXIT.failed : result.ok ? EXIT.ok : result.stopped ? 130 : EXIT.failed;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
