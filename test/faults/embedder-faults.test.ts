import { runBackfill } from '../../src/backfill';
import { QwenSparseEmbedder } from '../../src/embedders/qwen';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { checkTable, portableConfig, upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';
import { startFakeEmbeddingServer, type FakeEmbeddingServer } from '../support/fake-embedding-server';

/**
 * Embedder faults through the whole backfill: 30% 5xx, 429 with Retry-After, timeouts, malformed bodies,
 * vectors with NaN or out-of-range indices. Every valid row ends embedded (the same vector the service
 * returns for its text), the bad ones are reported, and nothing invalid is stored.
 */
describe('embedder faults during a backfill', () => {
  let db: TestDatabase;
  let server: FakeEmbeddingServer;
  const local = new LocalSparseEmbedder();
  beforeAll(async () => {
    db = await createTestDatabase('embfaults');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 300, emptyRate: 0, duplicateRate: 0 });
    await db
      .knex('memories')
      .whereIn(
        'id',
        (await db.knex('memories').select('id').orderBy('id').limit(3)).map((r: { id: string }) => r.id),
      )
      .update({ document: 'NANVECTOR memory' });
    await db.knex('memories').insert({ id: '9000000000000000001', document: 'HUGEINDEX memory' });
    await upgrade(db);
  });
  afterAll(async () => db.drop());
  afterEach(async () => server?.close());

  test('30% 5xx, a 429 with Retry-After, a timeout and a malformed body: valid rows embedded, bad ones reported', async () => {
    server = await startFakeEmbeddingServer({
      flavor: 'qwen',
      failureRate: 0.3,
      seed: 11,
      // The rows with bad vectors, alone, get their bad vectors: the test checks the reason they fail with.
      spared: (text) => text.includes('NANVECTOR') || text.includes('HUGEINDEX'),
      script: [
        { status: 429, body: { code: 'Throttling', message: 'rate limit' }, headers: { 'retry-after': '0.2' } },
        { status: 200, raw: '{"output": {"embeddings": [' },
        { status: 200, body: { output: { embeddings: [] } }, delayMs: 1500 },
      ],
      vectorFor: (text) => {
        if (text.includes('NANVECTOR')) return [[1, Number.NaN]];
        if (text.includes('HUGEINDEX')) return [[2 ** 33, 1]];
        const v = local.embed(text, 'document');
        return Array.from(v.indices, (i, k) => [i, v.values[k]] as [number, number]);
      },
    });
    const embedder = new QwenSparseEmbedder({
      provider: 'qwen',
      apiKey: 'k-test',
      baseUrl: server.url,
      backoffBaseMs: 5,
      maxRetries: 4,
      timeoutMs: 1000,
    });
    const s = await runBackfill({
      config: portableConfig(db),
      embedder,
      workers: 3,
      batchSize: 10,
      delaySeconds: 0,
      progress: 'none',
    });
    const bad = new Set(s.failures.map((f) => f.id));
    expect(s.failed).toBe(4);
    expect(bad.has('9000000000000000001')).toBe(true);
    expect(s.failures.find((f) => f.id === '9000000000000000001')?.reason).toContain('is above 4294967295');
    expect(s.failures.filter((f) => f.reason.includes('weight null') || f.reason.includes('weight NaN'))).toHaveLength(
      3,
    );
    // Every request that was answered with an error, a malformed body or too late was sent again (the
    // same texts, later); the 429's repeat came no earlier than its Retry-After (0.2 s, the server's clock).
    const reqs = server.requests;
    const same = (a: (typeof reqs)[number], b: (typeof reqs)[number]) =>
      JSON.stringify(a.body) === JSON.stringify(b.body);
    const faulty = reqs.filter((r) => r.status !== 200 || r.malformed || r === reqs[2]);
    expect(faulty.length).toBeGreaterThan(3); // the three scripted faults and some of the 30% 5xx
    for (const r of faulty) expect(reqs.some((later) => later.at >= r.at && later !== r && same(later, r))).toBe(true);
    const throttled = reqs[0];
    expect(throttled.status).toBe(429);
    const retried = reqs.find((later) => later !== throttled && same(later, throttled))!;
    expect(retried.at - throttled.at).toBeGreaterThanOrEqual(190);
    // Nothing invalid stored: every stored vector is the local vector of the row's text, the bad rows are NULL.
    const check = await checkTable(db, local);
    expect(check.wrong).toEqual([]);
    expect(check.nullEligible).toBe(4);
    expect(check.embedded).toBe(297);
  });
});
