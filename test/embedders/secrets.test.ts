import path from 'node:path';
import { ROOT, run } from '../support/cli';
import { upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';
import { startFakeEmbeddingServer, type FakeEmbeddingServer } from '../support/fake-embedding-server';

const KEY = 'sk-SECRET-a1b2c3d4e5f6a7b8';

/** Everything a failing qwen run prints, through every entry point, must be free of the key. */
describe('a failing qwen run never prints the API key', () => {
  let db: TestDatabase;
  let server: FakeEmbeddingServer;
  beforeAll(async () => {
    db = await createTestDatabase('secrets');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 60, emptyRate: 0 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());
  afterEach(async () => server?.close());

  const env = (url: string, extra: Record<string, string> = {}) =>
    db.env({
      SPARSE_VECTOR_STORAGE: 'json',
      SPARSE_EMBEDDER_PROVIDER: 'qwen',
      SPARSE_EMBEDDER_API_KEY: KEY,
      SPARSE_EMBEDDER_BASE_URL: url,
      SPARSE_EMBEDDER_MAX_RETRIES: '1',
      LOG_LEVEL: 'debug',
      ...extra,
    });

  test('bad key (401): the run stops at once with a clear error, exit 1, key absent from all output', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', apiKey: 'the-valid-key' });
    for (const args of [
      ['seed', '--progress', 'plain'],
      ['seed', '--json'],
    ]) {
      const r = await run(process.execPath, [path.join(ROOT, 'bin', 'umzug.js'), ...args], { env: env(server.url) });
      expect(r.code).toBe(1);
      const all = r.stdout + r.stderr;
      expect(all).toContain('DashScope rejected the API key (HTTP 401 InvalidApiKey)');
      expect(all).not.toContain(KEY);
    }
    // The run stopped instead of retrying every row: a handful of requests, not one per row.
    expect(server.requests.length).toBeLessThanOrEqual(4);
    const s = await run(process.execPath, [path.join(ROOT, 'bin', 'sparse-vector.js'), 'search', 'anything'], {
      env: env(server.url),
    });
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('Error [EMBEDDER_AUTH]: DashScope rejected the API key (HTTP 401 InvalidApiKey).');
    expect(s.stdout + s.stderr).not.toContain(KEY);
  });

  test('5xx: rows fail after retries and are listed; key absent from all output and from the ledger', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', failureRate: 1 });
    const r = await run(
      process.execPath,
      [
        path.join(ROOT, 'bin', 'sparse-vector.js'),
        'run',
        'migrate-sparse-vector',
        '--batch-size',
        '2',
        '--limit',
        '2',
        '--delay',
        '0',
      ],
      {
        env: env(server.url, { SPARSE_EMBEDDER_TIMEOUT_MS: '2000' }),
      },
    );
    expect(r.code).toBe(1);
    const all = r.stdout + r.stderr;
    expect(all).toContain('DashScope answered HTTP 500: InternalError: Internal server error.');
    expect(all).toContain("✗ Script 'migrate-sparse-vector' execution failed");
    expect(all).not.toContain(KEY);
    const ledger = await db.knex('sparse_vector_seeds').select('*');
    expect(JSON.stringify(ledger)).not.toContain(KEY);
  });
});
