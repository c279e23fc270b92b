import type { RetryNotice } from '../embedders/types';
import type { SparseVectorError } from '../errors';
import type { Logger } from '../util/logger';
import { redact } from '../util/redact';
import type { BackfillEmitter, BackfillStart } from './events';
import { DEFAULTS, type ProgressStyle, type Shard } from './options';
import { duration, n } from './progress/format';
import type { BackfillProgress } from './progress/model';
import { createRenderer, type ProgressRenderer } from './progress/renderers';
import type { BackfillSummary } from './summary';

export interface ReporterOptions {
  /** How to show progress (default: tty on a terminal, plain otherwise). */
  progress?: ProgressStyle;
  /** Where it goes (default process.stdout). */
  out?: NodeJS.WritableStream;
  progressIntervalSeconds?: number;
  onProgress?: (progress: BackfillProgress) => void;
  logger?: Logger;
  failuresFile?: string;
  /** A shard's plain lines are prefixed "[shard i/n] " (see createRenderer). */
  shard?: Shard;
}

/**
 * Turns a run's events into what the user sees: the header, progress (terminal, plain lines or JSON lines),
 * the summary, and the seeder's messages. The only place that writes a backfill's output.
 */
export class BackfillReporter {
  private readonly renderer: ProgressRenderer;
  /** The run's table and column, for the dry run's summary (set by the 'start' event). */
  private target = { table: '', sparseColumn: '' };
  /** The writer's fallback is said once per run. */
  private fellBack = false;

  constructor(private readonly options: ReporterOptions) {
    this.renderer = createRenderer(
      options.progress ?? 'auto',
      options.out ?? process.stdout,
      options.progressIntervalSeconds ?? DEFAULTS.progressIntervalSeconds,
      options.shard,
    );
  }

  /** Show what `events` reports. */
  attach(events: BackfillEmitter): this {
    const r = this.renderer;
    events.on('start', (s) => this.header(s));
    events.on('progress', (p) => this.progress(p));
    events.on('batch-failed', (e) => r.event('batch-failed', { ...e }));
    events.on('row-failed', (e) => r.event('row-failed', { ...e }));
    events.on('paused', (e) => {
      this.note(`Server busy (Threads_running=${e.threadsRunning} > ${e.threshold}): pausing the backfill`);
      r.event('paused', { ...e });
    });
    events.on('resumed', (e) => {
      r.event('resumed', { ...e });
      this.note('Server load is back under the limit: resuming the backfill');
    });
    events.on('embedder-retry', (n) => this.embedderRetry(n));
    events.on('writer-fallback', (e) => this.writerFallback(e.reason));
    events.on('done', ({ final, summary }) => this.done(final, summary));
    return this;
  }

  /** A message to the user (JSON lines: a 'message' event). */
  message(text: string): void {
    if (this.renderer.kind === 'json') this.renderer.event('message', { text: redact(text) });
    else this.renderer.line(text);
    this.options.logger?.debug(text);
  }

  /** A run that did nothing on purpose: JSON consumers still get their final 'done' event. */
  skipped(result: BackfillSummary): void {
    this.renderer.event('done', { ...result });
  }

  /** A throttle note: on a display it shows there (a log line would break a terminal's redraw), else it is logged. */
  private note(text: string): void {
    if (this.renderer.kind === 'none') this.options.logger?.info(text);
    else this.options.logger?.debug(text);
  }

  private writerFallback(reason: string): void {
    if (this.fellBack) return;
    this.fellBack = true;
    const text = `The server rejected every shape of the batched UPDATE (${reason}): writing row by row, one transaction per batch, from now on.`;
    this.renderer.line(text);
    this.renderer.event('writer-fallback', { reason });
    if (this.renderer.kind === 'none') this.options.logger?.warn(text);
    else this.options.logger?.debug(text);
  }

  private embedderRetry(n: RetryNotice): void {
    const text = `Embedder: ${redact(n.error.message)} Retrying in ${(n.waitMs / 1000).toFixed(1)} s (attempt ${n.attempt + 1} of ${n.attempts}).`;
    this.renderer.line(text);
    this.renderer.event('embedder-retry', {
      code: n.error.code,
      reason: redact(n.error.message),
      attempt: n.attempt + 1,
      attempts: n.attempts,
      waitMs: n.waitMs,
    });
    if (this.renderer.kind === 'none') this.options.logger?.info(text);
  }

  private header(s: BackfillStart): void {
    const r = this.renderer;
    const shardText = s.shard ? ` (shard ${s.shard.index}/${s.shard.count})` : '';
    if (s.dryRun)
      r.line(`[DRY RUN] Mode enabled - will only test with ${n(s.dryRunLimit ?? 0)} records (nothing is written)`);
    r.line(`Total records to migrate: ${n(s.total)}${shardText}`);
    const chars = s.batchChars ? `, at most ${n(s.batchChars)} characters of text` : '';
    const adapting = s.targetBatchMs ? ` (adapting toward ${s.targetBatchMs} ms per batch)` : '';
    r.line(`Batch size: ${s.batchSize}${chars}${adapting}`);
    r.line(`Thread pool size: ${s.workers}`);
    r.line(`Embedder: ${s.embedder} (${s.model})`);
    if (s.skipped) r.line(`Rows with an empty text (left NULL): ${n(s.skipped)}`);
    if (s.resumedAfter)
      r.line(
        `Resuming after id ${s.resumedAfter} (the previous run's checkpoint; a final sweep takes any row behind it)`,
      );
    const stats = s.termStatsRebuilt;
    if (stats)
      r.line(
        `Term statistics (for IDF) ${stats.reason === 'created' ? 'built' : 'rebuilt'} from ${n(stats.vectors)} stored vectors`,
      );
    r.line('');
    this.target = { table: s.table, sparseColumn: s.sparseColumn };
    const {
      dryRunLimit: _limit,
      targetBatchMs: _target,
      sparseColumn: _column,
      termStatsRebuilt: _stats,
      ...event
    } = s;
    r.event('start', event);
  }

  private progress(p: BackfillProgress): void {
    this.renderer.update(p);
    try {
      this.options.onProgress?.(p);
    } catch {
      // A failing progress callback must not stop the backfill.
    }
  }

  private done(final: BackfillProgress, s: BackfillSummary): void {
    this.renderer.finish(final);
    this.summary(s);
    this.renderer.event('done', { ...s, error: s.error ? redact(s.error.message) : undefined });
    if (s.error && this.renderer.kind === 'none') {
      this.options.logger?.warn(`Backfill ended early: ${redact(s.error.message)}`);
    }
  }

  private summary(s: BackfillSummary): void {
    const r = this.renderer;
    r.line('');
    if (s.dryRun) this.dryRunSummary(s);
    else {
      r.line(
        `Migrated: ${n(s.migrated)} | Failed: ${n(s.failed)} | Changed during the run: ${n(s.changed)} | Still NULL: ${n(s.remaining + s.failed)} | ` +
          `${duration(s.elapsedMs)} (${s.recordsPerSecond.toFixed(1)} rec/s)`,
      );
    }
    if (s.failed) {
      const file = this.options.failuresFile;
      r.line(`Failed rows (they stay NULL and are retried by the next run)${file ? `; all listed in ${file}` : ''}:`);
      for (const f of s.failures.slice(0, 20)) r.line(`  id ${f.id}: ${f.reason}`);
      if (s.failed > 20) r.line(`  ... and ${n(s.failed - 20)} more`);
    }
    if (s.changed && !s.dryRun) {
      r.line(`${n(s.changed)} rows changed during the run and were not written; the next run embeds their new text.`);
    }
    if (s.error) r.line('The run stopped on the error below.');
    if (s.stopped) r.line('Stopped before the end: in-flight batches were finished, nothing was lost.');
    const downgraded = (s.error as SparseVectorError | undefined)?.code === 'SCHEMA_DOWNGRADED';
    if (!s.dryRun && (s.stopped || s.error || s.failed || s.remaining) && !downgraded) {
      r.line('To resume, run the same command again: rows still NULL are picked up.');
    }
  }

  private dryRunSummary(s: BackfillSummary): void {
    const r = this.renderer;
    const w = s.wouldWrite!;
    const { table, sparseColumn } = this.target;
    r.line(
      `[DRY RUN] Would write ${n(w.rows)} vectors to ${table}.${sparseColumn} ` +
        `(on average ${w.averageTerms.toFixed(1)} terms, ${n(w.averageBytes)} bytes each)${w.sample.length ? ', for example:' : '.'}`,
    );
    for (const x of w.sample) {
      r.line(`  id ${x.id}: ${x.terms} terms ${x.value.length > 100 ? x.value.slice(0, 100) + '...' : x.value}`);
    }
    r.line(
      `[DRY RUN] Embedded ${n(s.migrated)} rows in ${duration(s.elapsedMs)} (${s.recordsPerSecond.toFixed(1)} rec/s); would write ${n(s.migrated)} vectors. Nothing was written.`,
    );
    if (s.migrated && s.remaining > s.migrated) {
      const eta = (s.remaining / Math.max(s.recordsPerSecond, 1e-9)) * 1000;
      r.line(
        `[DRY RUN] At this rate the ${n(s.remaining)} rows to migrate would take about ${duration(eta)} with these settings.`,
      );
    }
  }
}
