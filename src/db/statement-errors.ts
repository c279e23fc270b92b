/** Longest statement text kept in an error message (the server's own message is always kept whole). */
export const STATEMENT_HEAD_CHARS = 300;

/** The end of a statement this module shortened already. */
const SHORTENED = /… \(a statement of [\d,]+ characters\)$/;

/**
 * knex reports a failed query as `<the statement, values filled in> - <the server's message>`. For the
 * backfill's batched write that statement is the whole batch (hundreds of kilobytes of vectors): as an
 * error message it floods the terminal and overflows the seeds ledger's last_error. This keeps the
 * statement's beginning, says how long it was, and keeps the server's message whole. The error object is
 * changed in place (code, errno and sqlMessage stay) and returned; other errors are returned unchanged.
 */
export function shortenStatementError<T>(err: T): T {
  const e = err as { message?: unknown; sqlMessage?: unknown } | null;
  if (!e || typeof e.message !== 'string' || typeof e.sqlMessage !== 'string') return err;
  const tail = ` - ${e.sqlMessage}`;
  if (!e.message.endsWith(tail)) return err;
  const statement = e.message.slice(0, e.message.length - tail.length);
  // Already shortened (errors pass this on their way up more than once): keep the first count, the true one.
  if (statement.length <= STATEMENT_HEAD_CHARS || SHORTENED.test(statement)) return err;
  e.message = `${statement.slice(0, STATEMENT_HEAD_CHARS)}… (a statement of ${statement.length.toLocaleString('en-US')} characters)${tail}`;
  return err;
}
