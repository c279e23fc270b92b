/** The numbers every progress view shows (also passed to onProgress callbacks). */
export interface WorkerStats {
  migrated: number;
  failed: number;
}

export interface BackfillProgress {
  dryRun: boolean;
  /** Rows to process: counted at start, raised when rows appear during the run, exact at the end. */
  total: number;
  migrated: number;
  failed: number;
  /** Rows left NULL because they changed (or were embedded by the application) during the run. */
  skipped: number;
  processed: number;
  workers: WorkerStats[];
  elapsedMs: number;
  recordsPerSecond: number;
  /** Estimated time left, undefined before the first batch. */
  remainingMs?: number;
  done: boolean;
}

export class ProgressTracker {
  readonly workers: WorkerStats[];
  migrated = 0;
  failed = 0;
  skipped = 0;
  private readonly started = Date.now();

  constructor(
    public total: number,
    workerCount: number,
    readonly dryRun: boolean,
  ) {
    this.workers = Array.from({ length: workerCount }, () => ({ migrated: 0, failed: 0 }));
  }

  get processed(): number {
    return this.migrated + this.failed + this.skipped;
  }

  record(worker: number, r: { migrated: number; failed: number; skipped: number }): void {
    this.migrated += r.migrated;
    this.failed += r.failed;
    this.skipped += r.skipped;
    this.workers[worker].migrated += r.migrated;
    this.workers[worker].failed += r.failed;
    if (this.processed > this.total) this.total = this.processed;
  }

  snapshot(done = false): BackfillProgress {
    const elapsedMs = Date.now() - this.started;
    const processed = this.processed;
    const rate = elapsedMs > 0 ? (processed * 1000) / elapsedMs : 0;
    const left = Math.max(0, this.total - processed);
    return {
      dryRun: this.dryRun,
      total: done ? Math.max(this.total, processed) : this.total,
      migrated: this.migrated,
      failed: this.failed,
      skipped: this.skipped,
      processed,
      workers: this.workers.map((w) => ({ ...w })),
      elapsedMs,
      recordsPerSecond: rate,
      remainingMs: done ? 0 : rate > 0 ? (left / rate) * 1000 : undefined,
      done,
    };
  }
}
