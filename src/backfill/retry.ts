/**
 * Which database errors a backfill retries, which ones end the run, and which ones belong to the data of
 * particular rows (those are isolated by splitting the write, see engine.ts).
 */
import { retry, type RetryPolicy } from '../util/retry';

/** Errors that go away on their own: a lost or killed connection, a deadlock, a lock wait timeout. */
const TRANSIENT = new Set([
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);

/** Errors of the server or the connection, never of one row's data: they end the run (after retries). */
const NOT_ROW_ERRORS = new Set([
  ...TRANSIENT,
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_NO_SUCH_TABLE',
  'ER_BAD_FIELD_ERROR',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_READ_ONLY_MODE',
  'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
  'ER_OUT_OF_RESOURCES',
  'ER_OUTOFMEMORY',
  'ER_RECORD_FILE_FULL',
  'ER_DISK_FULL',
]);

/** The driver's error code (mysql2's and node's are names, e.g. ER_LOCK_DEADLOCK, ECONNRESET); '' when none. */
const errorCode = (err: unknown): string => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : '';
};

/**
 * mysql2 marks an error `fatal` when the connection is gone; one without a code comes from a command sent on a
 * connection already closed (e.g. knex's ROLLBACK after the server killed a transaction's connection). A new
 * pooled connection does not share the fate, so it is retried like a lost connection.
 */
const isClosedConnectionError = (err: unknown): boolean =>
  errorCode(err) === '' && (err as { fatal?: unknown } | undefined)?.fatal === true;

export function isTransientDbError(err: unknown): boolean {
  return (
    TRANSIENT.has(errorCode(err)) ||
    isClosedConnectionError(err) ||
    (err as Error | undefined)?.name === 'KnexTimeoutError'
  );
}

/**
 * A server error about the statement's values (e.g. a vector the column type rejects): worth splitting
 * the batch to find the rows. Anything else (connection, permissions, missing table, non-server errors)
 * is the run's error.
 */
export function isRowDataError(err: unknown): boolean {
  const code = errorCode(err);
  const errno = (err as { errno?: unknown } | undefined)?.errno;
  return typeof errno === 'number' && code.startsWith('ER_') && !NOT_ROW_ERRORS.has(code);
}

/**
 * The policy of retryWhile: another attempt while fewer than `attempts` were made, `retryable(err)` holds and
 * `signal` has not aborted, after `pauseMs(attempt)`.
 */
export function retryWhilePolicy(
  attempts: number,
  retryable: (err: unknown) => boolean,
  pauseMs: (attempt: number) => number,
  signal?: AbortSignal,
): RetryPolicy {
  return {
    signal,
    pauseMs: (err, attempt) =>
      attempt >= attempts || !retryable(err) || signal?.aborted ? undefined : pauseMs(attempt),
  };
}

/**
 * Run `fn` up to `attempts` times while `retryable(err)` holds, pausing `pauseMs(attempt)` after each failure.
 * Once `signal` has aborted no retry starts (the failure is rethrown); an abort during a pause rejects with its reason.
 */
export function retryWhile<T>(
  fn: () => Promise<T>,
  attempts: number,
  retryable: (err: unknown) => boolean,
  pauseMs: (attempt: number) => number,
  signal?: AbortSignal,
): Promise<T> {
  return retry(fn, retryWhilePolicy(attempts, retryable, pauseMs, signal));
}

/** The policy of withDbRetry: transient database errors, `attempts` tries in all, pauses of `baseMs` x attempt. */
export function dbRetryPolicy(attempts = 3, baseMs = 200): RetryPolicy {
  return retryWhilePolicy(attempts, isTransientDbError, (attempt) => baseMs * attempt);
}

/** Run `fn`, retrying transient database errors (`attempts` tries in all, growing pauses). */
export function withDbRetry<T>(fn: () => Promise<T>, attempts = 3, baseMs = 200): Promise<T> {
  return retry(fn, dbRetryPolicy(attempts, baseMs));
}
