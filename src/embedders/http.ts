import { SvmError, type SvmErrorCode } from '../errors';
import { redact } from '../util/redact';

/**
 * JSON over HTTP with timeout, retries and backoff, shared by the HTTP providers.
 * Retried: 429, 5xx, network errors and timeouts, with exponential backoff and full jitter, honouring
 * Retry-After (seconds or an HTTP date, capped). Not retried: other 4xx. Messages never contain the key.
 */
export interface HttpOptions {
  /** Provider name for messages, e.g. "DashScope". */
  service: string;
  timeoutMs: number;
  maxRetries: number;
  backoffBaseMs: number;
  /** Longest wait between two attempts (also caps Retry-After). */
  maxBackoffMs?: number;
  /** Turns an error status and body into a message (without the key). */
  describeError(status: number, body: unknown): { code: SvmErrorCode; message: string; hint?: string };
}

export interface HttpStats {
  requests: number;
  retries: number;
}

export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = header.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The most specific reason of a fetch failure: a system error code (ECONNREFUSED...) or a message. */
function networkCause(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const x = e as { code?: string; errors?: unknown[]; cause?: unknown; message?: string };
    if (typeof x.code === 'string' && x.code !== 'UND_ERR_SOCKET') return x.code;
    e = x.errors?.[0] ?? x.cause;
    if (!e) return x.message ?? 'unknown error';
  }
  return (err as Error).message;
}

class Retryable extends Error {
  constructor(
    readonly error: SvmError,
    readonly waitMs?: number,
  ) {
    super(error.message);
  }
}

export async function postJson(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  options: HttpOptions,
  stats: HttpStats,
  signal?: AbortSignal,
): Promise<unknown> {
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  for (let attempt = 0; ; attempt++) {
    try {
      stats.requests++;
      return await attemptOnce(url, headers, body, options, signal);
    } catch (err) {
      if (!(err instanceof Retryable)) throw err;
      if (attempt >= options.maxRetries || signal?.aborted) {
        const e = err.error;
        throw new SvmError(e.code, `${e.message} (gave up after ${attempt + 1} attempts)`, { hint: e.hint });
      }
      stats.retries++;
      const backoff = Math.random() * Math.min(maxBackoff, options.backoffBaseMs * 2 ** attempt);
      await sleep(Math.min(maxBackoff, err.waitMs ?? backoff), signal);
    }
  }
}

async function attemptOnce(url: string, headers: Record<string, string>, body: unknown, options: HttpOptions, signal?: AbortSignal): Promise<unknown> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body), signal: combined });
    text = await res.text();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) {
      throw new Retryable(new SvmError('EMBEDDER_TIMEOUT', `${options.service} did not answer within ${options.timeoutMs} ms.`, { hint: 'Raise SPARSE_EMBEDDER_TIMEOUT_MS or check the service.' }));
    }
    const cause = networkCause(err);
    throw new Retryable(new SvmError('EMBEDDER_NETWORK', redact(`Could not reach ${options.service} at ${new URL(url).origin}: ${cause}.`), { hint: 'Check SPARSE_EMBEDDER_BASE_URL and the network.' }));
  }
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.ok) {
    if (parsed === undefined) {
      throw new SvmError('EMBEDDER_BAD_RESPONSE', `${options.service} answered HTTP ${res.status} with a body that is not JSON.`);
    }
    return parsed;
  }
  const d = options.describeError(res.status, parsed ?? text.slice(0, 200));
  const error = new SvmError(d.code, redact(d.message), { hint: d.hint });
  if (res.status === 429 || res.status >= 500) throw new Retryable(error, retryAfterMs(res.headers.get('retry-after')));
  throw error;
}
