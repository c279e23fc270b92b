import { SparseVectorError, type SparseVectorErrorCode } from '../errors';
import { redact } from '../util/redact';
import { retry } from '../util/retry';
import type { RequestLimiter } from './request-limiter';
import type { RetryNotice } from './types';

export type { RetryNotice };

/**
 * JSON over HTTP with timeout, retries and backoff, shared by the HTTP providers (qwen, tei).
 *
 * - Each attempt has its own timeout (AbortSignal.timeout), combined with the caller's signal.
 * - Retried: 408, 429, 5xx, network errors and timeouts, up to `maxRetries` times, waiting
 *   `Retry-After` (seconds or an HTTP date, capped by maxRetryAfterMs) when the answer has one, else
 *   exponential backoff with full jitter: random(0, min(maxBackoffMs, backoffBaseMs * 2^attempt)).
 * - Not retried: other 4xx (400 bad input, 401/403 bad key, 413 too large...) and 2xx bodies that are not JSON.
 * - Unreachable (connection refused, DNS failure, TLS failure: every request would fail alike): a short
 *   bounded retry, at most UNREACHABLE_RETRIES times, waiting backoffBaseMs * 2^attempt (no jitter, at most
 *   maxBackoffMs), then EMBEDDER_UNREACHABLE (the backfill ends the run on it instead of bisecting).
 * - Every message goes through redact(); no error carries a `cause` (an undici error can quote request
 *   headers, and so the key).
 */
export interface HttpOptions {
  /** Service name for messages, e.g. "DashScope". */
  service: string;
  timeoutMs: number;
  maxRetries: number;
  backoffBaseMs: number;
  /** Longest computed backoff between two attempts (default 30 s). */
  maxBackoffMs?: number;
  /** Longest wait a Retry-After header can impose (default 60 s). */
  maxRetryAfterMs?: number;
  /** Turns an error status and its body (parsed JSON, else up to 200 characters of text) into an error. */
  describeError(status: number, body: unknown): { code: SparseVectorErrorCode; message: string; hint?: string };
  /** Adapts the requests in flight and their pace to the provider's 429s; see request-limiter.ts. */
  limiter?: RequestLimiter;
}

export interface HttpStats {
  /** HTTP attempts made, retries included. */
  requests: number;
  /** Attempts that were retries. */
  retries: number;
}

/** Retries after an unreachable-service failure (defaults: 0.5 + 1 + 2 s of waiting, then the run ends). */
export const UNREACHABLE_RETRIES = 3;

/**
 * The bounds of the waits between attempts (not settings). The timeout, retries and backoff base are
 * settings: their defaults are the option table's (src/options/table-embedder.ts), applied by
 * httpOptions() in http-embedder.ts.
 */
export const HTTP_DEFAULTS = {
  maxBackoffMs: 30_000,
  maxRetryAfterMs: 60_000,
} as const;

/** Milliseconds to wait for a Retry-After header value: delta-seconds or an HTTP date; undefined if absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = header.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Full-jitter exponential backoff before retry number `attempt + 1`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return random() * Math.min(maxMs, baseMs * 2 ** attempt);
}

/**
 * Failures that would fail every request alike: nothing listens, the name does not resolve, the network
 * has no route, TLS cannot be set up.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPROTO',
]);
const TLS_CODE =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/;

export function isUnreachableCause(cause: string): boolean {
  return UNREACHABLE_CODES.has(cause) || TLS_CODE.test(cause);
}

const CAUSE_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS failure)',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
};

/** The most specific reason of a fetch failure: a system error code (ECONNREFUSED...) or a message. */
function networkCause(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const x = e as { code?: unknown; errors?: unknown[]; cause?: unknown; message?: unknown };
    if (typeof x.code === 'string' && x.code !== 'UND_ERR_SOCKET') return x.code;
    const next = x.errors?.[0] ?? x.cause;
    if (!next) return typeof x.message === 'string' ? x.message : 'unknown error';
    e = next;
  }
  return err instanceof Error ? err.message : String(err);
}

function sparseVectorError(code: SparseVectorErrorCode, message: string, hint?: string): SparseVectorError {
  return new SparseVectorError(code, redact(message), hint === undefined ? {} : { hint: redact(hint) });
}

/** A failed attempt that may be retried (thrown inside the retry loop, never out of this module). */
class Retryable extends Error {
  constructor(
    readonly error: SparseVectorError,
    readonly waitMs?: number,
    readonly status?: number,
  ) {
    super(error.message);
  }
}

/** One attempt, started when the limiter lets it, and reported back to the limiter with how it went. */
async function limitedAttempt(
  url: string,
  headers: Record<string, string>,
  payload: string,
  options: HttpOptions,
  stats: HttpStats,
  signal: AbortSignal | undefined,
): Promise<{ value: unknown } | Retryable> {
  const limiter = options.limiter;
  const ticket = await limiter?.acquire(signal);
  stats.requests++;
  let outcome: { value: unknown } | Retryable;
  try {
    outcome = await attemptOnce(url, headers, payload, options, signal);
  } catch (err) {
    if (ticket) limiter!.release(ticket, 'other');
    throw err;
  }
  const limited = outcome instanceof Retryable && outcome.status === 429;
  if (ticket) {
    const how = limited ? 'rate-limited' : outcome instanceof Retryable ? 'other' : 'ok';
    limiter!.release(ticket, how, limited ? (outcome as Retryable).waitMs : undefined);
  }
  return outcome;
}

/**
 * POST `body` as JSON to `url` and return the parsed JSON answer, with the retry policy above.
 * `stats` is updated in place. Rejects with an SparseVectorError, or with the caller's abort reason.
 */
export async function postJson(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  options: HttpOptions,
  stats: HttpStats,
  signal?: AbortSignal,
  onRetry?: (notice: RetryNotice) => void,
): Promise<unknown> {
  const payload = JSON.stringify(body);
  let made = 0;
  try {
    return await retry(
      async () => {
        signal?.throwIfAborted();
        made++;
        const outcome = await limitedAttempt(url, headers, payload, options, stats, signal);
        if (outcome instanceof Retryable) throw outcome;
        return outcome.value;
      },
      {
        signal,
        pauseMs: (err, attempt) =>
          err instanceof Retryable && attempt <= retriesFor(err, options) ? pauseFor(err, attempt, options) : undefined,
        onRetry: (err, attempt, waitMs) => {
          stats.retries++;
          const { error } = err as Retryable;
          onRetry?.({ attempt, attempts: retriesFor(err as Retryable, options) + 1, waitMs, error });
        },
      },
    );
  } catch (err) {
    if (!(err instanceof Retryable)) throw err;
    const e = err.error;
    throw sparseVectorError(e.code, `${e.message} (gave up after ${made} attempts)`, e.hint);
  }
}

/** How many retries a failure allows: an unreachable service gets a short bounded retry, the rest maxRetries. */
function retriesFor(outcome: Retryable, options: HttpOptions): number {
  return outcome.error.code === 'EMBEDDER_UNREACHABLE'
    ? Math.min(options.maxRetries, UNREACHABLE_RETRIES)
    : options.maxRetries;
}

/** The wait after failed attempt number `attempt` (from 1): see the policy at the top of this file. */
function pauseFor(outcome: Retryable, attempt: number, options: HttpOptions): number {
  const maxBackoff = options.maxBackoffMs ?? HTTP_DEFAULTS.maxBackoffMs;
  if (outcome.error.code === 'EMBEDDER_UNREACHABLE')
    return Math.min(options.backoffBaseMs * 2 ** (attempt - 1), maxBackoff);
  if (outcome.waitMs !== undefined)
    return Math.min(outcome.waitMs, options.maxRetryAfterMs ?? HTTP_DEFAULTS.maxRetryAfterMs);
  return backoffMs(attempt - 1, options.backoffBaseMs, maxBackoff);
}

/** A fetch that failed without an answer: unreachable (every request would fail alike) or another network error. */
function networkFailure(err: unknown, url: string, service: string): Retryable {
  const cause = networkCause(err);
  const origin = new URL(url).origin;
  if (!isUnreachableCause(cause)) {
    return new Retryable(
      sparseVectorError(
        'EMBEDDER_NETWORK',
        `Could not reach ${service} at ${origin}: ${cause}.`,
        'Check SPARSE_EMBEDDER_BASE_URL and the network.',
      ),
    );
  }
  const why = CAUSE_WORDS[cause]
    ? `${cause}: ${CAUSE_WORDS[cause]}`
    : TLS_CODE.test(cause)
      ? `${cause}: TLS failed`
      : cause;
  return new Retryable(
    sparseVectorError(
      'EMBEDDER_UNREACHABLE',
      `Cannot reach ${service} at ${origin} (${why}).`,
      'Check that the service runs and SPARSE_EMBEDDER_BASE_URL points at it; every row would fail alike, so nothing more is tried.',
    ),
  );
}

async function attemptOnce(
  url: string,
  headers: Record<string, string>,
  payload: string,
  options: HttpOptions,
  signal: AbortSignal | undefined,
): Promise<{ value: unknown } | Retryable> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
      body: payload,
      signal: combined,
    });
    text = await res.text();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) {
      return new Retryable(
        sparseVectorError(
          'EMBEDDER_TIMEOUT',
          `${options.service} did not answer within ${options.timeoutMs} ms.`,
          'Raise SPARSE_EMBEDDER_TIMEOUT_MS, or check the service and the network.',
        ),
      );
    }
    return networkFailure(err, url, options.service);
  }
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.ok) {
    if (parsed === undefined)
      throw sparseVectorError(
        'EMBEDDER_BAD_RESPONSE',
        `${options.service} answered HTTP ${res.status} with a body that is not JSON.`,
      );
    return { value: parsed };
  }
  const d = options.describeError(res.status, parsed ?? text.slice(0, 200));
  const error = sparseVectorError(d.code, d.message, d.hint);
  if (res.status === 408 || res.status === 429 || res.status >= 500)
    return new Retryable(error, retryAfterMs(res.headers.get('retry-after')), res.status);
  throw error;
}
