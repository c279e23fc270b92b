/** What a backfill run returns, and the dry run's report of what it would have written. */

export interface BackfillFailure {
  id: string;
  reason: string;
}

export interface BackfillSummary {
  /** No failed row, not stopped, no run error. */
  ok: boolean;
  dryRun: boolean;
  /** Stopped by the signal (SIGINT/SIGTERM, abort()) before the end. */
  stopped: boolean;
  /** Rows of this run: migrated + failed + remaining (dry run / limit: the rows it was to process). */
  total: number;
  /** Rows written (dry run: rows embedded that would be written). */
  migrated: number;
  /** Rows that could not be embedded or written: they stay NULL and the next run retries them. */
  failed: number;
  /** Rows with a NULL vector whose text is empty or whitespace: left NULL on purpose (counted at start). */
  skipped: number;
  /** Rows not written because the application changed them between read and write ("changed, retried"). */
  changed: number;
  /** The first 1,000 failures (all of them go to failuresFile). */
  failures: BackfillFailure[];
  workers: Array<{ migrated: number; failed: number }>;
  elapsedMs: number;
  recordsPerSecond: number;
  /** Eligible rows still NULL after the run (in this shard), not counting the failed ones. */
  remaining: number;
  /** Dry run: what would have been written. */
  wouldWrite?: DryRunReport;
  /** The error that ended the run early (server gone, embedder key rejected), if any. */
  error?: Error;
  /**
   * Rows read by the main pass (from the start, or after `resumedAfter`, a previous run's checkpoint) and
   * by the final sweep over the whole table (rows still NULL behind it); undefined for a dry run.
   */
  read?: { resumedAfter?: string; main: number; sweep: number };
}

export interface DryRunReport {
  rows: number;
  averageTerms: number;
  averageBytes: number;
  /** The first few vectors, as they would be bound for the column. */
  sample: Array<{ id: string; terms: number; value: string }>;
}

const SAMPLE_SIZE = 3;

/** A dry run's running totals of what it would write. */
export class DryRunTally {
  private rows = 0;
  private terms = 0;
  private bytes = 0;
  private readonly sample: DryRunReport['sample'] = [];

  note(id: string, terms: number, value: string): void {
    this.rows++;
    this.terms += terms;
    this.bytes += Buffer.byteLength(value);
    if (this.sample.length < SAMPLE_SIZE) this.sample.push({ id, terms, value });
  }

  report(): DryRunReport {
    return {
      rows: this.rows,
      averageTerms: this.rows ? this.terms / this.rows : 0,
      averageBytes: this.rows ? this.bytes / this.rows : 0,
      sample: this.sample,
    };
  }
}

/** The summary of a run that did nothing (the seeder found the work done, or another run busy). */
export function emptySummary(dryRun: boolean): BackfillSummary {
  return {
    ok: true,
    dryRun,
    stopped: false,
    total: 0,
    migrated: 0,
    failed: 0,
    skipped: 0,
    changed: 0,
    failures: [],
    workers: [],
    elapsedMs: 0,
    recordsPerSecond: 0,
    remaining: 0,
  };
}
