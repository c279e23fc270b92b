import { retry, type RetryPolicy } from '../../src/util/retry';

/*
 * The package's one retry loop (src/util/retry.ts): how many attempts, which pauses, what is rethrown. The
 * pauses go to a fake sleep given through the policy, so the test sees each one without waiting for it.
 */

/** A policy that allows `retries` more attempts with pauses 10, 20, 30 ... ms, recording what it is told. */
function recordingPolicy(retries: number, extra: Partial<RetryPolicy> = {}) {
  const slept: number[] = [];
  const told: Array<[unknown, number, number]> = [];
  const asked: Array<[unknown, number]> = [];
  const policy: RetryPolicy = {
    pauseMs: (err, attempt) => {
      asked.push([err, attempt]);
      return attempt <= retries ? attempt * 10 : undefined;
    },
    onRetry: (err, attempt, pause) => void told.push([err, attempt, pause]),
    sleep: async (ms) => {
      // A loop that never ends (a broken count) fails here at once instead of hanging the test.
      if (slept.length >= 50) throw new Error('runaway retry loop');
      slept.push(ms);
    },
    ...extra,
  };
  return { policy, slept, told, asked };
}

test('a first success: one attempt, numbered 1, no pause', async () => {
  const { policy, slept, asked } = recordingPolicy(3);
  const fn = jest.fn(async (attempt: number) => `ok ${attempt}`);
  await expect(retry(fn, policy)).resolves.toBe('ok 1');
  expect(fn).toHaveBeenCalledTimes(1);
  expect(asked).toEqual([]);
  expect(slept).toEqual([]);
});

test('failures are retried while the policy gives a pause: attempts 1, 2, 3, pauses waited in order', async () => {
  const { policy, slept, told, asked } = recordingPolicy(3);
  const errors = [new Error('e1'), new Error('e2')];
  const attempts: number[] = [];
  const result = await retry(async (attempt) => {
    attempts.push(attempt);
    if (attempt <= errors.length) throw errors[attempt - 1];
    return 'done';
  }, policy);
  expect(result).toBe('done');
  expect(attempts).toEqual([1, 2, 3]);
  expect(asked).toEqual([
    [errors[0], 1],
    [errors[1], 2],
  ]);
  expect(told).toEqual([
    [errors[0], 1, 10],
    [errors[1], 2, 20],
  ]);
  expect(slept).toEqual([10, 20]);
});

test('gives up when the policy returns undefined: the last error itself is rethrown, no pause after it', async () => {
  const { policy, slept, told } = recordingPolicy(2);
  let calls = 0;
  const last = new Error('third failure');
  const err = await retry(async () => {
    calls++;
    throw calls === 3 ? last : new Error(`failure ${calls}`);
  }, policy).catch((e: unknown) => e);
  expect(err).toBe(last);
  expect(calls).toBe(3);
  expect(slept).toEqual([10, 20]);
  expect(told.map(([, attempt]) => attempt)).toEqual([1, 2]);
});

test('a pause of 0 is still a retry (only undefined gives up)', async () => {
  const slept: number[] = [];
  let calls = 0;
  await retry(
    async () => {
      if (++calls < 3) throw new Error('again');
    },
    { pauseMs: () => 0, sleep: async (ms) => void slept.push(ms) },
  );
  expect(calls).toBe(3);
  expect(slept).toEqual([0, 0]);
});

test('the signal reaches the sleep; without onRetry the loop still retries', async () => {
  const controller = new AbortController();
  const signals: Array<AbortSignal | undefined> = [];
  let calls = 0;
  await retry(
    async () => {
      if (++calls < 2) throw new Error('once');
    },
    { pauseMs: () => 5, signal: controller.signal, sleep: async (_ms, signal) => void signals.push(signal) },
  );
  expect(calls).toBe(2);
  expect(signals).toEqual([controller.signal]);
});

test('the default sleep: an abort during the pause rejects with the reason and no attempt starts after it', async () => {
  const controller = new AbortController();
  const reason = new Error('stopped');
  let calls = 0;
  const err = await retry(
    async () => {
      calls++;
      throw new Error('fails');
    },
    {
      // A pause far longer than the test: only the abort can end it.
      pauseMs: () => 600_000,
      onRetry: () => controller.abort(reason),
      signal: controller.signal,
    },
  ).catch((e: unknown) => e);
  expect(err).toBe(reason);
  expect(calls).toBe(1);
});

test('the default sleep waits the pause and then tries again', async () => {
  let calls = 0;
  await expect(
    retry(
      async () => {
        if (++calls < 2) throw new Error('once');
        return calls;
      },
      { pauseMs: () => 1 },
    ),
  ).resolves.toBe(2);
});
