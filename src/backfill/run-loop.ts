import type { BatchResult } from './batch';
import { Watermark, type Checkpoint } from './checkpoint';
import type { BackfillEmitter } from './events';
import type { ProgressTracker } from './progress/model';
import type { PendingRow } from './reader';
import { WorkerSlots } from './slots';
import type { PendingWrite } from './writer';

/** Where the loop takes its rows: the keyset reader (reader.ts) in a run; [] at the end. */
export interface RowSource {
  next(limit: number): Promise<PendingRow[]>;
}

/** A batch's two steps: embedBatch and writeVectors of batch.ts in a run (see engine.ts). */
export interface BatchSteps {
  embed(rows: PendingRow[], slot: number, result: BatchResult): Promise<PendingWrite[]>;
  write(writes: PendingWrite[], slot: number, result: BatchResult): Promise<void>;
}

/** The adaptive batch size (throttle.ts's BatchSize): the size of the next read, and each batch's measure. */
export interface SizeSource {
  readonly current: number;
  observe(rows: number, tookMs: number): void;
}

/** The time the loop uses: the batch's measure and the pause between batches (util/sleep.ts's pause). */
export interface LoopClock {
  now(): number;
  pause(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * What the loop works with, each behind a small interface (as Kysely's migrator takes a provider), so that
 * its logic is tested with in-memory parts (test/backfill/run-loop.test.ts); engine.ts wires the real ones.
 */
export interface RunLoopParts {
  steps: BatchSteps;
  reader: RowSource;
  /**
   * A reader from the start of the table for the final sweep (none for a dry or limited run): once the
   * main pass has reached the end, it takes the rows still NULL anywhere (behind a resume checkpoint, or
   * made NULL behind the reader during the run), except the rows that failed in this run.
   */
  sweep?: RowSource;
  /** The rows that failed in this run (the run's FailureLog). */
  failures: { has(id: string): boolean };
  /** Gets a 'progress' event after each written batch. */
  events: BackfillEmitter;
  tracker: ProgressTracker;
  size: SizeSource;
  clock: LoopClock;
  workers: number;
  /** Rows to take at most (a dry run's or a limited run's cap); undefined: all. */
  cap?: number;
  delayMs: number;
  /** Waits while the server is busy (the throttle, before each read); none: no throttle. */
  quiet?: () => Promise<void>;
  /** Counts the rows still eligible, for the recount (none for a dry or limited run: no recount). */
  count?: () => Promise<number>;
  signal?: AbortSignal;
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

type Pipeline = (write: () => Promise<void>) => Promise<void>;

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
    this.recount = new Recount(p.tracker, p.count);
    this.counts = { resumedAfter: p.resumedAfter, main: 0, sweep: 0, swept: false };
    this.watermark = new Watermark((after) => {
      const t = p.tracker;
      p.onCheckpoint?.({ after, remaining: Math.max(0, t.total - t.processed), skipped: p.skipped });
    });
  }

  /** Run to the end (or the stop); returns the error that ended the run early, if any. */
  async run(): Promise<Error | undefined> {
    const reachedEnd = await this.pass(this.p.reader, 'main');
    if (reachedEnd && this.p.sweep) {
      // Every write of the main pass first: the sweep must not take rows still in flight. (Stopped or
      // failed meanwhile: pass() returns before reading.)
      await this.slots.settle();
      this.counts.swept = await this.pass(this.p.sweep, 'sweep');
    }
    // Settle every pipelined write; the first failure is the run's error.
    await this.slots.settle();
    await this.recount.settled();
    return this.fatal;
  }

  /** Read and schedule batches until the reader is exhausted (returns true) or the run stops or is capped. */
  private async pass(reader: RowSource, which: 'main' | 'sweep'): Promise<boolean> {
    const { cap, size } = this.p;
    for (;;) {
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
      // The sweep leaves the rows that failed in this run to the next run (they are counted once); the main
      // pass moves the checkpoint.
      const rows = which === 'sweep' ? read.filter((r) => !this.p.failures.has(r.id)) : read;
      const processed = which === 'main' ? this.checkpointed(read) : undefined;
      if (rows.length) this.slots.run((slot, pipeline) => this.batch(rows, slot, pipeline, processed));
    }
  }

  /** The main pass's batch `read` enters the watermark; the function returned says it is processed. */
  private checkpointed(read: PendingRow[]): () => void {
    const seq = this.watermark.read(read[read.length - 1].id);
    return () => this.watermark.done(seq);
  }

  private stopping(): boolean {
    return !!this.p.signal?.aborted || this.fatal !== undefined;
  }

  private async read(reader: RowSource, want: number): Promise<PendingRow[] | undefined> {
    try {
      await this.p.quiet?.();
      if (this.stopping()) return undefined;
      return await reader.next(want);
    } catch (err) {
      this.fatal ??= err as Error;
      return undefined;
    }
  }

  private async batch(rows: PendingRow[], slot: number, pipeline: Pipeline, processed?: () => void): Promise<void> {
    // Read ahead but not started when the run is told to stop: the rows stay NULL for the next run.
    if (this.stopping()) return;
    const { steps, tracker, size, clock, delayMs, signal, events } = this.p;
    const started = clock.now();
    const result: BatchResult = { migrated: 0, failed: 0, changed: 0 };
    const writes = await steps.embed(rows, slot, result);
    await pipeline(async () => {
      await steps.write(writes, slot, result);
      tracker.record(slot, result);
      processed?.();
      events.emit('progress', tracker.snapshot());
      this.recount.maybe();
    });
    size.observe(rows.length, clock.now() - started);
    if (delayMs > 0) await clock.pause(delayMs, signal);
  }
}

/** More rows processed than counted (the application added or emptied rows): count again, once at a time. */
class Recount {
  private pending?: Promise<void>;

  /** Without `count` (a dry or limited run), never. */
  constructor(
    private readonly tracker: ProgressTracker,
    private readonly count: (() => Promise<number>) | undefined,
  ) {}

  maybe(): void {
    const t = this.tracker;
    if (!this.count || this.pending || t.processed <= t.total) return;
    this.pending = this.count()
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
