import { sleep } from './sleep';

/**
 * The package's one retry loop, for database statements and HTTP requests alike. The policy decides, per
 * failure, whether to try again and after how long; the loop only counts, waits and calls again.
 */
export interface RetryPolicy {
  /**
   * The pause before another attempt after `err` ended attempt number `attempt` (from 1), or `undefined` to
   * give up (the loop rethrows `err`).
   */
  pauseMs(err: unknown, attempt: number): number | undefined;
  /** Told before each pause (for progress output and statistics). */
  onRetry?(err: unknown, attempt: number, pauseMs: number): void;
  /** An abort ends a pause at once and rejects with the signal's reason; no attempt starts after it. */
  signal?: AbortSignal;
  /** How a pause is waited (default: a timer, see util/sleep); tests give a fake one to see the pauses. */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const pause = policy.pauseMs(err, attempt);
      if (pause === undefined) throw err;
      policy.onRetry?.(err, attempt, pause);
      await (policy.sleep ?? sleep)(pause, policy.signal);
    }
  }
}
