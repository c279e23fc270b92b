/** The numbers every progress view shows (also passed to onProgress callbacks and --json events). */
export interface WorkerStats {
  migrated: number;
  failed: number;
}

export interface BackfillProgress {
  dryRun: boolean;
  /**
   * Rows this run is expected to process: a COUNT at start, recounted when more rows than that were
   * processed (the application inserted or emptied rows meanwhile), and exact at the end
   * (migrated + failed + remaining).
   */
  total: number;
  migrated: number;
  failed: number;
  /** Rows not written because the application changed their text or wrote a value meanwhile. */
  changed: number;
  /** migrated + failed + changed. */
  processed: number;
  workers: WorkerStats[];
  elapsedMs: number;
  recordsPerSecond: number;
  /** Estimated time left: undefined before the first batch, and at the end of a run that stopped with rows left. */
  remainingMs?: number;
  /** The current batch size (changes when the batch size adapts to a target duration). */
  batchSize: number;
  /** True while the run waits for a busy server (throttle). */
  paused: boolean;
  done: boolean;
}

/** Counts of one run; the engine records each batch's outcome and takes snapshots for the renderers. */
export class ProgressTracker {
  readonly workers: WorkerStats[];
  migrated = 0;
  failed = 0;
  changed = 0;
  batchSize: number;
  paused = false;
  private readonly started = Date.now();

  constructor(
    public total: number,
    workerCount: number,
    readonly dryRun: boolean,
    batchSize: number,
  ) {
    this.workers = Array.from({ length: workerCount }, () => ({ migrated: 0, failed: 0 }));
    this.batchSize = batchSize;
  }

  get processed(): number {
    return this.migrated + this.failed + this.changed;
  }

  record(worker: number, r: { migrated: number; failed: number; changed: number }): void {
    this.migrated += r.migrated;
    this.failed += r.failed;
    this.changed += r.changed;
    this.workers[worker].migrated += r.migrated;
    this.workers[worker].failed += r.failed;
  }

  snapshot(done = false): BackfillProgress {
    const elapsedMs = Date.now() - this.started;
    const processed = this.processed;
    const total = Math.max(this.total, processed);
    const rate = elapsedMs > 0 ? (processed * 1000) / elapsedMs : 0;
    const left = total - processed;
    return {
      dryRun: this.dryRun,
      total,
      migrated: this.migrated,
      failed: this.failed,
      changed: this.changed,
      processed,
      workers: this.workers.map((w) => ({ ...w })),
      elapsedMs,
      recordsPerSecond: rate,
      // A run that ended with rows left (stopped, failed) has no time left to estimate: undefined, not 0.
      remainingMs: left === 0 ? 0 : done ? undefined : rate > 0 ? (left / rate) * 1000 : undefined,
      batchSize: this.batchSize,
      paused: this.paused,
      done,
    };
  }
}
