import type { Knex } from 'knex';

/*
 * The server's state between measured parts. Every part starts with a table set back to NULL (one UPDATE of
 * every row) and the part before it wrote every row: InnoDB purges the undo of those statements in the
 * background for a while after they commit (tens of seconds at 1M rows), on the same cores and charged to
 * the same server process. Started at once, a part would pay for the previous part's purge. So each measured
 * part waits for it first, and the buffer pool is made to hold the table when the private server's is
 * smaller (its default, 512 MB, is below the 1M-row table's ~755 MB: the figures would measure paging).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until InnoDB's history list (undo not yet purged) is below `below` entries, at most `maxSeconds`.
 * Returns the seconds waited; 0 on a server without InnoDB's metrics table.
 */
export async function waitForPurge(knex: Knex, below = 1000, maxSeconds = 300): Promise<number> {
  const started = Date.now();
  for (;;) {
    let length: number;
    try {
      const [rows] = await knex.raw(
        "SELECT `COUNT` AS n FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'",
      );
      length = Number(rows[0]?.n ?? 0);
    } catch {
      return 0;
    }
    const waited = (Date.now() - started) / 1000;
    if (length < below || waited > maxSeconds) return waited;
    await sleep(250);
  }
}

/**
 * Make the buffer pool at least `bytes` (online resize); returns a function that sets it back, or undefined
 * when it was large enough already.
 */
export async function ensureBufferPool(knex: Knex, bytes: number): Promise<(() => Promise<void>) | undefined> {
  const [[row]] = await knex.raw('SELECT @@innodb_buffer_pool_size AS b');
  const before = Number(row.b);
  if (before >= bytes) return undefined;
  await resizeBufferPool(knex, bytes);
  return () => resizeBufferPool(knex, before);
}

async function resizeBufferPool(knex: Knex, bytes: number): Promise<void> {
  await knex.raw('SET GLOBAL innodb_buffer_pool_size = ?', [bytes]);
  for (let i = 0; i < 600; i++) {
    const [[row]] = await knex.raw('SELECT @@innodb_buffer_pool_size AS b');
    const [status] = await knex.raw("SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status'");
    const text = String(status[0]?.Value ?? '');
    if (Number(row.b) === bytes && !/started|resizing|withdraw/i.test(text)) return;
    await sleep(100);
  }
}
