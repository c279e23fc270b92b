import { runBackfill } from '../../src/backfill';
import { defaultWorkers } from '../../src/backfill/options';
import { RequestLimiter } from '../../src/embedders/request-limiter';
import { checkTable, portableConfig, upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';
import { startFakeEmbeddingServer, type FakeEmbeddingServer } from '../support/fake-embedding-server';

describe('request limiter (AIMD)', () => {
  test('a 429 halves the window once per round; clean answers raise it by about one per window', async () => {
    const limiter = new RequestLimiter({ initial: 8, max: 64, min: 1 });
    const tickets = await Promise.all(Array.from({ length: 8 }, () => limiter.acquire()));
    limiter.release(tickets[0], 'rate-limited');
    expect(limiter.window).toBe(4);
    // The other answers of the same round (sent before the decrease) do not lower it again.
    limiter.release(tickets[1], 'rate-limited');
    limiter.release(tickets[2], 'rate-limited');
    expect(limiter.window).toBe(4);
    for (const t of tickets.slice(3)) limiter.release(t, 'ok');
    expect(limiter.window).toBe(5); // 4 + 1/4 + 1/4.25 + ... over 5 answers
    // A 429 of the new round lowers it again; never below 1.
    for (let i = 0; i < 5; i++) limiter.release(await limiter.acquire(), 'rate-limited');
    expect(limiter.window).toBe(1);
    expect(limiter.stats).toMatchObject({ rateLimited: 8, decreases: 6 }); // 5 rounds after the first: each lowered it (to 1 at least)
  });

  test('no more than the window is granted; the next waiter gets the slot a release frees, in arrival order', async () => {
    const limiter = new RequestLimiter({ initial: 2 });
    const order: number[] = [];
    const a = await limiter.acquire();
    await limiter.acquire();
    const waiting = [limiter.acquire().then(() => order.push(3)), limiter.acquire().then(() => order.push(4))];
    await Promise.resolve();
    expect(order).toEqual([]);
    limiter.release(a, 'other');
    await waiting[0];
    expect(order).toEqual([3]);
    expect(limiter.stats.maxInFlight).toBe(2);
  });

  test('Retry-After holds back every new request until it has passed', async () => {
    const limiter = new RequestLimiter({ initial: 4 });
    const t = await limiter.acquire();
    const before = Date.now();
    limiter.release(t, 'rate-limited', 150);
    await limiter.acquire();
    expect(Date.now() - before).toBeGreaterThanOrEqual(149);
  });

  test('a cap in requests per minute spaces the starts of requests', async () => {
    const limiter = new RequestLimiter({ initial: 10, requestsPerMinute: 1200 }); // one per 50 ms
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const t = await limiter.acquire();
        starts.push(Date.now());
        limiter.release(t, 'ok');
      }),
    );
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(49);
  });

  test('an aborted wait leaves the queue and rejects with the reason', async () => {
    const limiter = new RequestLimiter({ initial: 1, min: 1 });
    const held = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    limiter.release(held, 'ok');
    const next = await limiter.acquire();
    limiter.release(next, 'ok');
  });
});

describe('backfill against a provider that answers 429 above N requests in flight', () => {
  const N = 4;
  let db: TestDatabase;
  let server: FakeEmbeddingServer;
  beforeAll(async () => {
    db = await createTestDatabase('aimd');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 1500, emptyRate: 0, duplicateRate: 0 });
    await upgrade(db);
    server = await startFakeEmbeddingServer({ flavor: 'qwen', maxInFlight: N, latencyMs: 5 });
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });
  // Each test starts from a table still to embed (tests run in random order).
  beforeEach(async () => db.knex('memories').update({ sparse_embedding: null }));

  test('with 16 workers the engine settles at or below N in flight, and every row is embedded', async () => {
    const config = portableConfig(db, {
      embedder: { provider: 'qwen', apiKey: 'test-key', baseUrl: server.url, backoffBaseMs: 5 },
    });
    const s = await runBackfill({ config, workers: 16, batchSize: 50, delaySeconds: 0, progress: 'none' });
    expect(s).toMatchObject({ ok: true, failed: 0, migrated: 1500, remaining: 0 });
    const c = await checkTable(db);
    expect(c).toMatchObject({ embedded: 1500, nullEligible: 0, wrong: [] });
    // 16 workers x 5 requests of 10 texts could put 80 requests in flight. The window halves at each 429 and
    // climbs back by about one per window of answers, so it only probes N + 1 now and then: 429s are a small
    // fraction of the answers (at most about 1 in 10 for N = 4), where a fixed concurrency above N would get most
    // of its requests refused.
    expect(server.limits.accepted).toBeGreaterThanOrEqual(150);
    expect(server.limits.rateLimited).toBeLessThanOrEqual(server.limits.accepted / 6);
  });

  test('without a workers setting, an HTTP embedder runs 8 workers (the local embedder 1), few 429s from a peer refusing above N', async () => {
    expect([defaultWorkers('local'), defaultWorkers('qwen'), defaultWorkers('tei')]).toEqual([1, 8, 8]);
    const config = portableConfig(db, {
      embedder: { provider: 'qwen', apiKey: 'test-key', baseUrl: server.url, backoffBaseMs: 5 },
    });
    const before = { ...server.limits };
    const s = await runBackfill({ config, batchSize: 50, delaySeconds: 0, progress: 'none' });
    expect(s).toMatchObject({ ok: true, failed: 0, migrated: 1500, remaining: 0 });
    expect(s.workers).toHaveLength(8);
    // 8 workers could put 8 requests in flight; the limiter keeps the 429s a small fraction of the answers.
    expect(server.limits.rateLimited - before.rateLimited).toBeLessThanOrEqual(
      (server.limits.accepted - before.accepted) / 6,
    );
  });
});
