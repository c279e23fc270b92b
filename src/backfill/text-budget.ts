import { OneAtATime } from '../util/one-at-a-time';
import type { PendingRow } from './reader';
import type { RowSource } from './run-loop';

/**
 * A batch of at most `limit` rows whose texts hold at most `maxChars` characters together (a batch always
 * has its first row, however long; characters as JavaScript counts a string's length, UTF-16 code units).
 * Reads `limit` rows at a time from `source` and hands them out in order (one call at a time), in batches
 * cut at the budget; the rows not handed out yet wait here for the next call, and when they would all fit
 * in the next batch, the next read is appended to them first.
 *
 * So one setting suits long and short texts: a batch's server-side costs (its transaction, the term
 * statistics' upsert, the round trips) are paid per batch whatever its texts' length, while its embedding
 * time grows with the characters. With `--batch-size 4000 --batch-chars 200000`, texts of ~50 characters go
 * 4000 to a batch and texts of ~175 about 1,140 (docs/benchmarks.md, twelfth look). Memory follows the rows
 * as well as the characters: `--batch-size` caps it.
 *
 * The checkpoint is unaffected: it follows the batches written (checkpoint.ts), so rows read but not yet
 * handed out when a run stops are read again by the next run.
 */
export class TextBudgetSource implements RowSource {
  private waiting: PendingRow[] = [];
  private readonly serial = new OneAtATime();

  constructor(
    private readonly source: RowSource,
    readonly maxChars: number,
  ) {}

  next(limit: number): Promise<PendingRow[]> {
    return this.serial.run(() => this.take(limit));
  }

  private async take(limit: number): Promise<PendingRow[]> {
    // Read on when every row waiting would fit in this batch, so that batches are cut by the budget, not
    // where a read happens to end.
    if (this.allFit(limit)) this.waiting = this.waiting.concat(await this.source.next(limit));
    let n = 0;
    let chars = 0;
    while (n < this.waiting.length && n < limit) {
      chars += this.waiting[n].text.length;
      if (n > 0 && chars > this.maxChars) break;
      n++;
    }
    return this.waiting.splice(0, n);
  }

  private allFit(limit: number): boolean {
    if (this.waiting.length >= limit) return false;
    let chars = 0;
    for (const row of this.waiting) chars += row.text.length;
    return chars <= this.maxChars;
  }
}
