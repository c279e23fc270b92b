import type { Knex } from 'knex';
import { requireConnection } from '../config/config';
import { discoverTable } from '../config/table-discovery';
import { checkConnection, createKnex, withKnex } from '../db/knex';
import { privilegeError } from '../db/privileges';
import { shortenStatementError } from '../db/statement-errors';
import { createEmbedder } from '../embedders';
import { splitsTable } from '../options/read';
import type { SparseSchemaContext } from '../schema/sparse-schema';
import { ensureTermStatsTable, prepareTermStats, termStatsTable, type TermStatsPreparation } from '../stats/term-stats';
import { pause } from '../util/sleep';
import { embedBatch, writeVectors, type BatchContext } from './batch';
import { BackfillEmitter } from './events';
import { FailureLog } from './failures';
import { checkBackfillNumbers, defaultWorkers, DEFAULTS, type BackfillOptions } from './options';
import { ProgressTracker } from './progress/model';
import { countAtStart, countEligible, type NullRows } from './queries';
import { idPlaceholder, KeysetReader } from './reader';
import { TextBudgetSource } from './text-budget';
import { BackfillReporter } from './reporter';
import { RunLoop, type ReadCounts, type RowSource } from './run-loop';
import type { ResumeHint } from './checkpoint';
import { explainRunError } from './schema-guard';
import { DryRunTally, type BackfillSummary } from './summary';
import { checkBackfillTarget } from './target';
import { BatchSize, waitForQuietServer } from './throttle';
import { chooseBatchShape } from './write-shape';
import { WritePlan } from './writer';

export type { BackfillFailure, BackfillSummary, DryRunReport } from './summary';
export { checkBackfillTarget } from './target';

/** A run's settings after defaults, and what it found at start. */
interface RunPlan {
  options: BackfillOptions;
  knex: Knex;
  batchSize: number;
  workers: number;
  /** Rows to take at most (a dry run's or a limited run's cap); undefined: all. */
  cap?: number;
  /** Eligible and empty-text NULL rows counted at start. */
  atStart: { eligible: number; empty: number };
  tracker: ProgressTracker;
  batch: BatchContext;
  /** The term statistics as prepared at start (undefined: this run records none). */
  stats?: TermStatsPreparation;
  /** Where the main pass starts (see resumeHint). */
  resume?: ResumeHint;
}

/**
 * The backfill engine (no ledger: see runSeeder for the tracked seeder). Embeds the text of every eligible
 * row (sparse column NULL, text not empty/whitespace) and writes the vectors, `workers` batches at a time.
 * All state lives in the table, so a killed run loses nothing: the next run continues with the rows still
 * NULL. Setup problems (no database, schema not upgraded, bad options) are thrown before anything is
 * written; a problem met during the run ends it early and is returned in `summary.error`. `schema` is the
 * context checkBackfillTarget() returned, when the caller (the seeder) has checked already.
 *
 * The parts: run-loop.ts (read, schedule, stop), slots.ts (worker slots and pipelined writes), batch.ts
 * (embed and write with failure isolation), throttle.ts, failures.ts, and reporter.ts, which turns the
 * run's events into what the user sees.
 */
export async function runBackfill(
  options: BackfillOptions & { knex?: Knex; schema?: SparseSchemaContext },
): Promise<BackfillSummary> {
  checkBackfillNumbers(options);
  const { config } = options;
  const dryRun = options.dryRun ?? false;
  const embedder = options.embedder ?? createEmbedder(config.embedder);
  const workers = options.workers ?? defaultWorkers(embedder.provider);
  const connection = requireConnection(config);
  const events = new BackfillEmitter();
  const failures = new FailureLog(events, options.failuresFile, dryRun);
  new BackfillReporter(options).attach(events);
  return withKnex(
    options.knex,
    () => createKnex(connection, { pool: workers + 3 }),
    async (knex) => {
      try {
        await checkConnection(knex, connection);
        if (config.tableDiscovery) options = { ...options, config: await discoverTable(knex, config, options.logger) };
        const schema = options.schema ?? (await checkBackfillTarget(knex, options.config));
        const plan = await planRun(options, knex, schema, { embedder, events, failures });
        events.emit('start', {
          total: plan.tracker.total,
          batchSize: plan.batchSize,
          workers,
          delaySeconds: delaySecondsOf(options),
          dryRun,
          embedder: embedder.provider,
          model: embedder.model,
          table: options.config.table,
          shard: options.shard ?? null,
          skipped: plan.atStart.empty,
          termStatsRebuilt: plan.stats?.rebuilt
            ? { reason: plan.stats.rebuilt, vectors: plan.stats.documents }
            : undefined,
          dryRunLimit: dryRun ? plan.cap : undefined,
          batchChars: options.batchChars,
          targetBatchMs: options.targetBatchMs,
          sparseColumn: options.config.sparseColumn,
          resumedAfter: plan.resume?.after,
        });
        const loop = runLoop(plan);
        let fatal = shortenStatementError(await loop.run()); // a failed batch write: not its whole statement
        if (fatal) fatal = privilegeError(fatal) ?? fatal; // "lacks UPDATE …", not the statement
        if (fatal) fatal = await explainRunError(schema, fatal); // e.g. the schema was downgraded meanwhile
        return await finish(plan, fatal, loop.counts);
      } finally {
        failures.close();
      }
    },
  );
}

const delaySecondsOf = (o: BackfillOptions): number => o.delaySeconds ?? DEFAULTS.delaySeconds;

/** Count what there is to do and gather what the batches share. */
async function planRun(
  options: BackfillOptions,
  knex: Knex,
  schema: SparseSchemaContext,
  parts: Pick<BatchContext, 'embedder' | 'events' | 'failures'>,
): Promise<RunPlan> {
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const workers = options.workers ?? defaultWorkers(parts.embedder.provider);
  const dryRun = options.dryRun ?? false;
  const idParam = await idPlaceholder(knex, schema.target);
  const maxStatementBytes = await statementLimit(knex);
  const resume = resumeHint(options);
  const { atStart, stats } = await startFigures(options, knex, schema, parts.embedder.provider, resume);
  const cap = dryRun ? (options.dryRunLimit ?? DEFAULTS.dryRunLimit) : options.limit;
  const total = cap === undefined ? atStart.eligible : Math.min(cap, atStart.eligible);
  const tracker = new ProgressTracker(total, workers, dryRun, batchSize);
  const run = { integerIds: idParam !== '?', wholeTable: !splitsTable(options.shard), counted: stats !== undefined };
  const shape = await chooseBatchShape(knex, schema.dialect, run);
  const batch: BatchContext = {
    ...parts,
    knex,
    dialect: schema.dialect,
    target: schema.target,
    idParam,
    maxStatementBytes,
    attempts: options.embedAttempts ?? DEFAULTS.embedAttempts,
    signal: options.signal,
    tracker,
    dryRun: dryRun ? new DryRunTally() : undefined,
    statsTable: stats?.statsTable,
    writePlan: new WritePlan(shape),
  };
  return { options, knex, batchSize, workers, cap, atStart, tracker, batch, stats, resume };
}

/**
 * The rows to do and the term statistics (for a local-embedder run that writes), from one scan of the table
 * where both are needed. Resuming with the previous run's figures, the rows to do are not counted (the end
 * of the run makes the total exact).
 */
async function startFigures(
  options: BackfillOptions,
  knex: Knex,
  schema: SparseSchemaContext,
  provider: string,
  resume: ResumeHint | undefined,
): Promise<{ atStart: NullRows; stats?: TermStatsPreparation }> {
  const statsTable = options.dryRun || provider !== 'local' ? undefined : termStatsTable(options.config.table);
  const existed = statsTable ? await ensureTermStatsTable(knex, statsTable) : false;
  const counted = resume?.total === undefined;
  const found = await countAtStart(knex, schema.target, { shard: options.shard, statsTable, nullRows: counted });
  const atStart = found.nullRows ?? { eligible: resume?.total ?? 0, empty: resume?.skipped ?? 0 };
  const stats =
    statsTable && found.stats
      ? await prepareTermStats(knex, schema.target, schema.dialect, statsTable, { existed, snapshot: found.stats })
      : undefined;
  return { atStart, stats };
}

/** A resume checkpoint counts for a whole-table run that writes (not a dry, limited or sharded one). */
function resumeHint(o: BackfillOptions): ResumeHint | undefined {
  const whole = !o.dryRun && o.limit === undefined && !splitsTable(o.shard);
  return whole ? o.resume : undefined;
}

function runLoop(plan: RunPlan): RunLoop {
  const { options, batch, knex, tracker } = plan;
  const { maxThreadsRunning, signal, shard } = options;
  const reader = (after?: string): RowSource => {
    const keyset = new KeysetReader(knex, batch.target, shard, batch.idParam, after);
    return options.batchChars ? new TextBudgetSource(keyset, options.batchChars) : keyset;
  };
  // The final sweep and the recount: for a run over every eligible row that writes (not a dry or limited one).
  const whole = plan.cap === undefined && !batch.dryRun;
  return new RunLoop({
    steps: {
      embed: (rows, slot, result) => embedBatch(batch, rows, slot, result),
      write: (writes, slot, result) => writeVectors(batch, writes, slot, result),
    },
    reader: reader(plan.resume?.after),
    sweep: whole ? reader() : undefined,
    failures: batch.failures,
    events: batch.events,
    resumedAfter: plan.resume?.after,
    onCheckpoint: options.onCheckpoint,
    skipped: plan.atStart.empty,
    tracker,
    size: new BatchSize(plan.batchSize, plan.batchSize, options.targetBatchMs, tracker),
    clock: { now: () => Date.now(), pause },
    workers: plan.workers,
    cap: plan.cap,
    delayMs: delaySecondsOf(options) * 1000,
    quiet: maxThreadsRunning
      ? () => waitForQuietServer(knex, maxThreadsRunning, signal, batch.events, tracker)
      : undefined,
    count: whole ? () => countEligible(knex, batch.target, shard) : undefined,
    signal,
  });
}

/** Count what is left (unless the sweep reached the end), make the totals exact, and report the end. */
async function finish(plan: RunPlan, fatal: Error | undefined, counts: ReadCounts): Promise<BackfillSummary> {
  const { options, tracker, batch, cap, atStart } = plan;
  const dryRun = batch.dryRun !== undefined;
  const stopped = !!options.signal?.aborted && !fatal;
  const processed = tracker.snapshot();
  let remaining: number;
  if (dryRun) remaining = atStart.eligible;
  // The sweep read the whole table after the main pass: every eligible row it found was processed (the
  // rows that failed are counted as failed), so none is left: no count (a full scan) needed.
  else if (counts.swept && !fatal && !stopped) remaining = 0;
  else {
    const stillNull = await countEligible(plan.knex, batch.target, options.shard).catch(() => undefined);
    remaining =
      stillNull !== undefined
        ? Math.max(0, stillNull - processed.failed)
        : Math.max(0, tracker.total - processed.processed);
  }
  // Exact at the end: what this run did plus what is left (a dry or limited run: what it was to do). The
  // display keeps total >= processed (rows the application gave a value meanwhile are processed, not left).
  const exactTotal = !dryRun && cap === undefined ? processed.migrated + processed.failed + remaining : undefined;
  if (exactTotal !== undefined) tracker.total = exactTotal;
  const final = tracker.snapshot(true);
  const summary: BackfillSummary = {
    ok: !fatal && final.failed === 0 && !stopped,
    dryRun,
    stopped,
    total: exactTotal ?? final.total,
    migrated: final.migrated,
    failed: final.failed,
    skipped: atStart.empty,
    changed: final.changed,
    failures: batch.failures.listed,
    workers: final.workers,
    elapsedMs: final.elapsedMs,
    recordsPerSecond: final.recordsPerSecond,
    remaining,
    error: fatal,
    read: dryRun ? undefined : { resumedAfter: counts.resumedAfter, main: counts.main, sweep: counts.sweep },
  };
  if (batch.dryRun) summary.wouldWrite = batch.dryRun.report();
  batch.events.emit('done', { final, summary });
  return summary;
}

/** The largest UPDATE we send: 3/4 of max_allowed_packet (the rest is room for the statement's text). */
async function statementLimit(knex: Knex): Promise<number> {
  try {
    const [rows] = (await knex.raw('SELECT @@max_allowed_packet AS m')) as [Array<{ m: unknown }>];
    const m = Number(rows[0]?.m);
    if (Number.isFinite(m) && m > 0) return Math.floor(m * 0.75);
  } catch {
    // Not readable on this server: assume MySQL's oldest default.
  }
  return 3 * 1024 * 1024;
}
