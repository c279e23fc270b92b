import { setTimeout as delay } from 'node:timers/promises';

/** Wait `ms`; when `signal` aborts, reject with the signal's reason (as node's own APIs do). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}

/** Wait `ms`, or less when `signal` aborts (it resolves then: a stopping run just goes on to its end). */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, signal).catch((err: unknown) => {
    if (!signal?.aborted) throw err;
  });
}
