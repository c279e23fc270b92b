/**
 * `batchChars` (--batch-chars): a batch ends at batchSize rows or before the row that would take its texts past
 * the budget (src/backfill/text-budget.ts). In process with an in-memory row source for the cutting rule, then
 * against the server: the batches a run writes, and a run killed while rows it read wait in the budget's buffer.
 */
import { runBackfill, runSeeder } from '../../src/backfill';
import type { PendingRow } from '../../src/backfill/reader';
import type { RowSource } from '../../src/backfill/run-loop';
import { TextBudgetSource } from '../../src/backfill/text-budget';
import { DOCUMENT_COUNT_KEY, termStatsTable } from '../../src/stats/term-stats';
import { startAt } from '../support/cli';
import { captureStream, checkTable, jsonLines, portableConfig, upgrade, waitUntil } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/** The batch sizes the rule gives for these text lengths (an independent statement of it). */
function expectedCuts(lengths: number[], batchSize: number, maxChars: number): number[] {
  const cuts: number[] = [];
  let rows = 0;
  let chars = 0;
  for (const len of lengths) {
    if (rows > 0 && (rows === batchSize || chars + len > maxChars)) {
      cuts.push(rows);
      rows = 0;
      chars = 0;
    }
    rows++;
    chars += len;
  }
  if (rows) cuts.push(rows);
  return cuts;
}

/** A row source over rows of the given text lengths, ids 1..n, handing out at most `limit` per call. */
function rowsOf(lengths: number[]): RowSource & { calls: number[] } {
  const rows: PendingRow[] = lengths.map((n, i) => ({ id: String(i + 1), text: 'x'.repeat(n), hash: '' }));
  let at = 0;
  const calls: number[] = [];
  return {
    calls,
    next: async (limit) => {
      calls.push(limit);
      await new Promise((resolve) => setImmediate(resolve)); // an asynchronous read, as the server's
      const out = rows.slice(at, at + limit);
      at += out.length;
      return out;
    },
  };
}

async function drain(source: RowSource, limit: number): Promise<PendingRow[][]> {
  const batches: PendingRow[][] = [];
  for (let b = await source.next(limit); b.length; b = await source.next(limit)) batches.push(b);
  return batches;
}

describe('the text budget of a batch, in process', () => {
  test('cuts at the budget, not where a read ends; a row longer than the budget alone', async () => {
    const lengths = [30, 40, 50, 10, 500, 20, 20, 20, 20, 20, 100, 1, 1, 1, 99, 7];
    const inner = rowsOf(lengths);
    const batches = await drain(new TextBudgetSource(inner, 100), 6);
    expect(batches.map((b) => b.length)).toEqual(expectedCuts(lengths, 6, 100));
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1, 5, 1, 3, 1, 1]);
    // Every row once, in order. The source was read 6 rows at a time, and only when the rows waiting would
    // all have fit in the next batch: rows 1-6, 7-12 (the 5 of 20 characters cross the first read's end),
    // 13-16, then two empty reads (one beside the last row waiting, one that ends the pass).
    expect(batches.flat().map((r) => r.id)).toEqual(lengths.map((_, i) => String(i + 1)));
    expect(inner.calls).toEqual([6, 6, 6, 6, 6]);
  });

  test('a smaller limit (a capped run) is kept, and concurrent calls get consecutive batches', async () => {
    const lengths = Array.from({ length: 30 }, (_, i) => 10 + (i % 7));
    const budget = new TextBudgetSource(rowsOf(lengths), 45);
    const first = await budget.next(2);
    expect(first.map((r) => r.id)).toEqual(['1', '2']);
    const together = await Promise.all([budget.next(10), budget.next(10), budget.next(10)]);
    const ids = [first, ...together].flat().map((r) => Number(r.id));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    for (const b of together) expect(b.reduce((n, r) => n + r.text.length, 0)).toBeLessThanOrEqual(45);
  });
});

describe('the text budget of a batch, against the server', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('textbudget');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 300, emptyRate: 0, duplicateRate: 0 });
    await upgrade(db);
  });
  afterEach(async () => db.drop());

  /** The texts' lengths in the order the backfill reads them (as JavaScript counts a string's length). */
  async function textLengths(): Promise<number[]> {
    const [rows] = await db.knex.raw('SELECT document FROM memories ORDER BY id');
    return rows.map((r: { document: string }) => r.document.length);
  }

  test('each written batch is the rows up to the budget (a longer text alone), every row right', async () => {
    const lengths = await textLengths();
    expect(Math.max(...lengths)).toBeGreaterThan(400); // some texts alone exceed the budget
    const processed: number[] = [];
    const out = captureStream();
    const s = await runBackfill({
      config: portableConfig(db),
      batchSize: 100,
      batchChars: 400,
      workers: 1,
      delaySeconds: 0,
      progress: 'json',
      out,
      onProgress: (p) => processed.push(p.processed),
    });
    expect(s).toMatchObject({ ok: true, migrated: 300, failed: 0 });
    expect(jsonLines(out.text).find((e) => e.event === 'start')).toMatchObject({ batchSize: 100, batchChars: 400 });
    const sizes = processed.map((n, i) => n - (i ? processed[i - 1] : 0)).filter((n) => n > 0);
    expect(sizes).toEqual(expectedCuts(lengths, 100, 400));
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0, embedded: 300 });
  });

  test('killed (SIGKILL) while rows it read wait in the buffer: the re-run resumes before them, every row right once', async () => {
    const before = await checkTable(db);
    // Reads of 100 rows cut into batches of <= 1000 characters (~6 rows); the third batch's write is held, so
    // the run is killed with the rest of its first read still in the buffer, never written.
    const { child, done, reached } = startAt(
      'backfill:before-write@3',
      ['seed', '--workers', '1', '--batch-size', '100', '--batch-chars', '1000', '--delay', '0', '--progress', 'none'],
      db.env({ SPARSE_VECTOR_STORAGE: 'json', OCEANBASE_COLLECTION: 'memories' }),
    );
    await reached;
    const written = async (): Promise<number> => (await checkTable(db)).embedded;
    await waitUntil(async () => (await written()) > 0);
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    const behind = await checkTable(db);
    expect(behind.embedded).toBeLessThan(100); // the first read's rows are not all written

    const s = await runSeeder({
      config: portableConfig(db),
      workers: 2,
      batchSize: 100,
      batchChars: 1000,
      delaySeconds: 0,
      progress: 'none',
    });
    expect(s).toMatchObject({ ok: true, failed: 0, remaining: 0 });
    // The main pass took every row left (resuming at the checkpoint, not at the reader's position), so the
    // final sweep found none.
    expect(s.read).toMatchObject({ sweep: 0 });
    expect(s.migrated).toBe(before.nullEligible - behind.embedded);
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0, embedded: before.nullEligible });
    const stats = await db.knex(termStatsTable('memories')).where({ term: DOCUMENT_COUNT_KEY }).first('df');
    expect(Number(stats.df)).toBe(before.nullEligible);
  });
});
