/**
 * The keyset checkpoint of a run: the largest id such that every eligible row up to it has been processed
 * (written, failed, or found changed). Batches finish out of order (several workers); the checkpoint only
 * moves over batches finished in read order, so a run killed at any moment has every row up to its last
 * checkpoint processed. The seeder keeps it in the seeds ledger; a re-run starts reading after it (a hint:
 * the final sweep over the whole table finds rows that became NULL behind it, so the result stays exact).
 */
export interface Checkpoint {
  /** Every eligible row with an id up to this one was processed. */
  after: string;
  /** Eligible rows the run still had to do at this checkpoint (seeds the next run's progress total). */
  remaining: number;
  /** Rows left NULL because their text is empty (the start count's figure, carried to the next run). */
  skipped: number;
}

/** Where a run resumes: read after `after`; without a count at start when `total` is known. */
export interface ResumeHint {
  after: string;
  /** The previous run's figure of rows still to do; the progress total instead of a count at start. */
  total?: number;
  skipped?: number;
}

/** Batches in read order; reports the end id of the longest finished prefix when it moves. */
export class Watermark {
  private readonly pending: Array<{ lastId: string; done: boolean }> = [];
  /** Sequence number of the next batch read. */
  private next = 0;
  /** Sequence number of pending[0]. */
  private base = 0;

  constructor(private readonly moved: (lastId: string) => void) {}

  /** A batch was read (its last id); returns its sequence number. */
  read(lastId: string): number {
    this.pending.push({ lastId, done: false });
    return this.next++;
  }

  /** The batch `seq` is processed: every row written, failed or changed. */
  done(seq: number): void {
    const entry = this.pending[seq - this.base];
    if (!entry) return;
    entry.done = true;
    let last: string | undefined;
    while (this.pending.length && this.pending[0].done) {
      last = this.pending.shift()!.lastId;
      this.base++;
    }
    if (last !== undefined) this.moved(last);
  }
}
