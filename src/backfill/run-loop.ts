import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { pause } from '../util/sleep';
import { embedBatch, writeVectors, type BatchContext, type BatchResult } from './batch';
import { Watermark, type Checkpoint } from './checkpoint';
import type { Shard } from './options';
import type { ProgressTracker } from './progress/model';
import { countEligible } from './queries';
import type { KeysetReader, PendingRow } from './reader';
import { WorkerSlots } from './slots';
import { waitForQuietServer, type BatchSize } from './throttle';

export interface RunLoopParts {
  batch: BatchContext;
  reader: KeysetReader;
  tracker: ProgressTracker;
  size: BatchSize;
  workers: number;
  /** Rows to take at most (a dry run's or a limited run's cap); undefined: all. */
  cap?: number;
  delayMs: number;
  maxThreadsRunning?: number;
  signal?: AbortSignal;
  shard?: Shard;
  /**
   * A reader from the start of the table for the final sweep (none for a dry or limited run): once the
   * main pass has reached the end, it takes the rows still NULL anywhere (behind a resume checkpoint, or
   * made NULL behind the reader during the run), except the rows that failed in this run.
   */
  sweep?: KeysetReader;
  /** Where the main pass started (a resume checkpoint), for the summary. */
  resumedAfter?: string;
  /** Called when the main pass's checkpoint moves (see checkpoint.ts). */
  onCheckpoint?: (c: Checkpoint) => void;
  /** Empty-text rows counted at start (carried in the checkpoint). */
  skipped: number;
}

/** What the run read: rows per pass, and whether the sweep reached the end (then nothing eligible is left). */
export interface ReadCounts {
  resumedAfter?: string;
  main: number;
  sweep: number;
  swept: boolean;
}

/**
 * The run loop: reads batches ahead of the workers, schedules them into the worker slots (embed, then a
 * pipelined write), and stops taking new batches when the signal aborts or an error ends the run; batches
 * already started are finished. Each written batch is a 'progress' event.
 */
export class RunLoop {
  /** The error that ends the run; set once. */
  private fatal?: Error;
  private readonly slots: WorkerSlots;
  private readonly recount: Recount;
  private readonly watermark: Watermark;
  readonly counts: ReadCounts;

  constructor(private readonly p: RunLoopParts) {
    this.slots = new WorkerSlots(p.workers, (err) => void (this.fatal ??= err));
    const recountable = p.cap === undefined && !p.batch.dryRun;
    this.recount = new Recount(p.batch.knex, p.batch.target, p.shard, p.tracker, recountable);
    this.counts = { resumedAfter: p.resumedAfter, main: 0, sweep: 0, swept: false };
    this.watermark = new Watermark((after) => {
      const t = p.tracker;
      p.onCheckpoint?.({ after, remaining: Math.max(0, t.total - t.processed), skipped: p.skipped });
    });
  }

  /** Run to the end (or the stop); returns the error that ended the run early, if any. */
  async run(): Promise<Error | undefined> {
    const reachedEnd = await this.pass(this.p.reader, 'main');
    if (reachedEnd && this.p.sweep && !this.stopping()) {
      // Every write of the main pass first: the sweep must not take rows still in flight.
      await this.slots.settle();
      if (!this.stopping()) this.counts.swept = await this.pass(this.p.sweep, 'sweep');
    }
    // Settle every pipelined write; the first failure is the run's error.
    await this.slots.settle();
    await this.recount.settled();
    return this.fatal;
  }

  /** Read and schedule batches until the reader is exhausted (returns true) or the run stops or is capped. */
  private async pass(reader: KeysetReader, which: 'main' | 'sweep'): Promise<boolean> {
    const { cap, size } = this.p;
    while (!this.stopping()) {
      // Keep batches read ahead of the workers, so a worker never waits for the reader.
      await this.slots.readyForMore();
      if (this.stopping()) return false;
      const taken = this.counts.main + this.counts.sweep;
      const want = cap === undefined ? size.current : Math.min(size.current, cap - taken);
      if (want <= 0) return false;
      const read = await this.read(reader, want);
      if (!read) return false;
      if (!read.length) return true;
      this.counts[which] += read.length;
      // The sweep leaves the rows that failed in this run to the next run (they are counted once).
      const rows = which === 'sweep' ? read.filter((r) => !this.p.batch.failures.has(r.id)) : read;
      const seq = which === 'main' ? this.watermark.read(read[read.length - 1].id) : undefined;
      if (rows.length) this.slots.run((slot, pipeline) => this.batch(rows, slot, pipeline, seq));
      else if (seq !== undefined) this.watermark.done(seq);
    }
    return false;
  }

  private stopping(): boolean {
    return !!this.p.signal?.aborted || this.fatal !== undefined;
  }

  private async read(reader: KeysetReader, want: number): Promise<PendingRow[] | undefined> {
    const { batch, maxThreadsRunning, signal, tracker } = this.p;
    try {
      if (maxThreadsRunning) await waitForQuietServer(batch.knex, maxThreadsRunning, signal, batch.events, tracker);
      if (this.stopping()) return undefined;
      return await reader.next(want);
    } catch (err) {
      this.fatal ??= err as Error;
      return undefined;
    }
  }

  private async batch(
    rows: PendingRow[],
    slot: number,
    pipeline: (write: () => Promise<void>) => Promise<void>,
    seq: number | undefined,
  ): Promise<void> {
    // Read ahead but not started when the run is told to stop: the rows stay NULL for the next run.
    if (this.stopping()) return;
    const { batch, tracker, size, delayMs, signal } = this.p;
    const started = Date.now();
    const result: BatchResult = { migrated: 0, failed: 0, changed: 0 };
    const writes = await embedBatch(batch, rows, slot, result);
    await pipeline(async () => {
      await writeVectors(batch, writes, slot, result);
      tracker.record(slot, result);
      if (seq !== undefined) this.watermark.done(seq);
      batch.events.emit('progress', tracker.snapshot());
      this.recount.maybe();
    });
    size.observe(rows.length, Date.now() - started);
    if (delayMs > 0) await pause(delayMs, signal);
  }
}

/** More rows processed than counted (the application added or emptied rows): count again, once at a time. */
class Recount {
  private pending?: Promise<void>;

  constructor(
    private readonly knex: Knex,
    private readonly target: SparseTarget,
    private readonly shard: Shard | undefined,
    private readonly tracker: ProgressTracker,
    private readonly enabled: boolean,
  ) {}

  maybe(): void {
    const t = this.tracker;
    if (!this.enabled || this.pending || t.processed <= t.total) return;
    this.pending = countEligible(this.knex, this.target, this.shard)
      .then((stillNull) => {
        // Rows still NULL include those in flight and the failed ones (already processed).
        t.total = Math.max(t.total, t.processed + Math.max(0, stillNull - t.failed));
      })
      .catch(() => undefined)
      .finally(() => {
        this.pending = undefined;
      });
  }

  settled(): Promise<void> {
    return this.pending ?? Promise.resolve();
  }
}
