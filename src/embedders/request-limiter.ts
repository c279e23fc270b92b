/**
 * How many requests an HTTP embedder has in flight, and how fast it starts them, adapted to the provider's
 * answers (AIMD: additive increase, multiplicative decrease, as TCP's congestion window). Providers limit
 * either the requests in flight or the requests per second (a token bucket, as DashScope's quota), and a
 * 429 does not say which, so both are adapted:
 *
 * - the window (requests in flight): each clean answer raises it by 1/window (about +1 per window of
 *   answers), up to `max`; a 429 halves it, never below `min` (2: one request in flight per latency is
 *   exactly one provider's per-second quota at 1/latency, so a window of 1 could never reach it);
 * - the pace (request starts per second): none until the first 429; then 0.95 × the rate of clean answers
 *   of the last second (when there were at least 3; before that a 429 holds new requests for 100 ms),
 *   lowered by 0.95 at each further 429 and raised by +2 requests/s (or +20%, if more) per second of clean
 *   answers.
 *   Paced, a rate-limited provider sees few 429s, and a 429 never turns into a burst of instant retries;
 * - a decrease happens once per round: 429s of requests started before the last decrease do not count;
 * - a 429 with Retry-After also holds back every new request until that time;
 * - an optional cap of requests per minute spaces request starts at least 60,000 / rpm ms apart, so a
 *   known quota is never exceeded in the first place.
 *
 * Requests wait their turn in arrival order. One limiter is shared by all the requests of one embedder
 * (all the backfill's workers), so the window is the whole process's.
 */
export interface RequestLimiterOptions {
  /** Window at the start (default 4). */
  initial?: number;
  /** Largest window (default 64). */
  max?: number;
  /** Smallest window (default 2). */
  min?: number;
  /** Cap on request starts per minute (default: none). */
  requestsPerMinute?: number;
}

export interface RequestLimiterStats {
  /** Answers 429 seen. */
  rateLimited: number;
  /** Times the window was halved. */
  decreases: number;
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** The window now (requests that may be in flight). */
  window: number;
  /** The pace now, in request starts per second (undefined: not paced). */
  pace?: number;
}

export type RequestOutcome = 'ok' | 'rate-limited' | 'other';

/** A granted slot; hand it back with release(). */
export interface RequestTicket {
  readonly round: number;
}

interface Waiter {
  grant(ticket: RequestTicket): void;
}

export const REQUEST_LIMITER_DEFAULTS = { initial: 4, max: 64, min: 2 } as const;
const DECREASE = 0.95;
const MIN_PACE = 0.2;
const UNKNOWN_RATE_HOLD_MS = 100;

export class RequestLimiter {
  private windowSize: number;
  private readonly max: number;
  private readonly min: number;
  private readonly spacingMs: number;
  /** Request starts per second once a 429 was seen. */
  private pace: number | undefined;
  /** End times of the clean answers of about the last second. */
  private readonly recent: number[] = [];
  private firstStartAt = 0;
  private inFlight = 0;
  /** Incremented by every decrease; a ticket remembers the round it was granted in. */
  private round = 0;
  /**
   * The earliest time (Date.now()) each rule lets the next request start: `hold`, a 429's Retry-After (or the
   * short hold of a 429 whose rate is unknown yet); `cap`, the requests-per-minute cap; `pace`, the pace.
   */
  private readonly startNotBefore = { hold: 0, cap: 0, pace: 0 };
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  readonly stats: RequestLimiterStats;

  constructor(options: RequestLimiterOptions = {}) {
    this.max = Math.max(1, Math.floor(options.max ?? REQUEST_LIMITER_DEFAULTS.max));
    this.min = Math.min(this.max, Math.max(1, Math.floor(options.min ?? REQUEST_LIMITER_DEFAULTS.min)));
    this.windowSize = Math.min(this.max, Math.max(this.min, options.initial ?? REQUEST_LIMITER_DEFAULTS.initial));
    this.spacingMs = options.requestsPerMinute ? 60_000 / options.requestsPerMinute : 0;
    this.stats = { rateLimited: 0, decreases: 0, maxInFlight: 0, window: Math.floor(this.windowSize) };
  }

  /** Requests that may be in flight now. */
  get window(): number {
    return Math.floor(this.windowSize);
  }

  /** Wait for a slot (in arrival order). Rejects with the signal's reason when it is aborted first. */
  acquire(signal?: AbortSignal): Promise<RequestTicket> {
    signal?.throwIfAborted();
    return new Promise<RequestTicket>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason as Error);
      };
      const waiter: Waiter = {
        grant: (ticket) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(ticket);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Hand a slot back with what the provider answered (`retryAfterMs`: its Retry-After, if any). */
  release(ticket: RequestTicket, outcome: RequestOutcome, retryAfterMs?: number): void {
    this.inFlight--;
    const now = Date.now();
    if (outcome === 'ok') {
      this.windowSize = Math.min(this.max, this.windowSize + 1 / this.windowSize);
      if (this.pace !== undefined) this.pace += Math.max(2, 0.2 * this.pace) / this.pace; // +2/s or +20%/s, per second of answers
      this.recent.push(now);
      while (this.recent.length && this.recent[0] < now - 1000) this.recent.shift();
    } else if (outcome === 'rate-limited') {
      this.stats.rateLimited++;
      if (ticket.round === this.round) {
        this.windowSize = Math.max(this.min, this.windowSize / 2);
        const clean = this.recent.filter((t) => t >= now - 1000).length;
        if (clean >= 3) {
          const observed = clean / Math.min(1, Math.max(0.05, (now - this.firstStartAt) / 1000));
          this.pace = Math.max(MIN_PACE, DECREASE * (this.pace ?? observed));
        } else if (this.pace !== undefined) {
          this.pace = Math.max(MIN_PACE, DECREASE * this.pace);
        } else {
          // Too few answers yet to know the provider's rate: a short hold instead of instant retries.
          this.holdUntil(now + UNKNOWN_RATE_HOLD_MS);
        }
        this.round++;
        this.stats.decreases++;
      }
      if (retryAfterMs !== undefined && retryAfterMs > 0) this.holdUntil(Date.now() + retryAfterMs);
    }
    this.stats.window = this.window;
    this.stats.pace = this.pace;
    this.pump();
  }

  private pump(): void {
    while (this.waiters.length && this.inFlight < this.window) {
      const now = Date.now();
      const next = this.startNotBefore;
      const startAt = Math.max(next.hold, next.cap, next.pace);
      if (startAt > now) {
        this.wakeAt(startAt - now);
        return;
      }
      // The cap is strict (never two starts closer than 60,000 / rpm ms). The pace keeps its schedule when a
      // timer fired late (up to one interval), so that it holds on average on a busy machine.
      if (this.spacingMs) next.cap = now + this.spacingMs;
      if (this.pace !== undefined) {
        const interval = 1000 / this.pace;
        next.pace = now - next.pace <= interval ? next.pace + interval : now + interval;
      }
      if (!this.firstStartAt) this.firstStartAt = now;
      this.inFlight++;
      this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
      this.waiters.shift()!.grant({ round: this.round });
    }
  }

  /** No request starts before `time` (the later of this and an earlier hold). */
  private holdUntil(time: number): void {
    this.startNotBefore.hold = Math.max(this.startNotBefore.hold, time);
  }

  private wakeAt(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.ceil(ms));
  }
}
