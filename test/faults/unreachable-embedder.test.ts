import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { runSeeder } from '../../src/backfill';
import { seedLockName } from '../../src/backfill/schema-guard';
import { isUnreachableCause } from '../../src/embedders/http';
import { TeiSparseEmbedder } from '../../src/embedders/tei';
import { portableConfig, upgrade, jsonLines } from '../support/backfill';
import { collect, ROOT, umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/**
 * An embedder that cannot be reached fails every row alike: the run ends after a short bounded retry
 * (4 attempts), with one message, no per-row bisection, the rows left NULL and the seed lock free.
 */
const ROWS = 200;

/** A local port with nothing listening on it (taken, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('an unreachable embedder ends the run quickly and cleanly', () => {
  let db: TestDatabase;
  let port: number;
  beforeAll(async () => {
    db = await createTestDatabase('unreachable');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: ROWS, emptyRate: 0 });
    await upgrade(db);
    port = await closedPort();
  });
  afterAll(async () => db.drop());

  async function lockFree(): Promise<boolean> {
    const [rows] = await db.knex.raw('SELECT IS_FREE_LOCK(?) AS free', [seedLockName(db.name, 'memories')]);
    return rows[0].free === 1;
  }
  async function stillNull(): Promise<number> {
    const [[r]] = await db.knex.raw('SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NULL');
    return Number(r.n);
  }

  test.each([
    ['tei', 'text-embeddings-inference', {}],
    ['qwen', 'DashScope', { SPARSE_EMBEDDER_API_KEY: 'sk-unreachable-test-key' }],
  ])(
    '%s at a closed port, %#: exit 1, one message, 3 retries, no bisection, lock free',
    async (provider, service, extra) => {
      const origin = `http://127.0.0.1:${port}`;
      const env = db.env({
        SPARSE_VECTOR_STORAGE: 'json',
        OCEANBASE_COLLECTION: 'memories',
        SPARSE_EMBEDDER_PROVIDER: provider,
        SPARSE_EMBEDDER_BASE_URL: origin,
        SPARSE_EMBEDDER_BACKOFF_BASE_MS: '10',
        ...extra,
      });
      const r = await umzug(['seed', '--json', '--workers', '2'], env);
      expect(r.code).toBe(1);
      const message = `Error [EMBEDDER_UNREACHABLE]: Cannot reach ${service} at ${origin} (ECONNREFUSED: connection refused (nothing listens there)). (gave up after 4 attempts)`;
      expect(r.stderr.split('\n')[0]).toBe(message);
      expect(r.stderr.split('Error [').length).toBe(2); // one error, printed once
      const events = jsonLines(r.stdout);
      expect(events.filter((e) => e.event === 'batch-failed' || e.event === 'row-failed')).toEqual([]);
      const retries = events.filter((e) => e.event === 'embedder-retry');
      // Each of the (at most 2) batches in flight: 3 retries announced, then the run ends.
      expect(retries.length % 3).toBe(0);
      expect(retries.length).toBeGreaterThanOrEqual(3);
      expect(retries.length).toBeLessThanOrEqual(6);
      expect(retries.map((e) => e.attempts)).toEqual(retries.map(() => 4));
      expect(events[events.length - 1]).toMatchObject({ event: 'done', ok: false, migrated: 0, failed: 0 });
      expect(await stillNull()).toBe(ROWS);
      expect(await lockFree()).toBe(true);
    },
  );

  test('plain progress: the error is stated once (the CLI prints it with its fix), the summary points at it', async () => {
    const origin = `http://127.0.0.1:${port}`;
    const env = db.env({
      SPARSE_VECTOR_STORAGE: 'json',
      OCEANBASE_COLLECTION: 'memories',
      SPARSE_EMBEDDER_PROVIDER: 'tei',
      SPARSE_EMBEDDER_BASE_URL: origin,
      SPARSE_EMBEDDER_BACKOFF_BASE_MS: '10',
    });
    const r = await umzug(['seed', '--progress', 'plain', '--workers', '1'], env);
    expect(r.code).toBe(1);
    const output = r.stdout + r.stderr;
    expect(output.split('(gave up after 4 attempts)').length).toBe(2);
    expect(r.stdout).toContain('The run stopped on the error below.');
    expect(r.stdout).toContain('To resume, run the same command again');
    expect(r.stderr).toMatch(/^Error \[EMBEDDER_UNREACHABLE\]: Cannot reach/m);
  });

  test('library: 4 requests in all for 200 rows (no per-row retry), the error is the run error', async () => {
    const embedder = new TeiSparseEmbedder({ baseUrl: `http://127.0.0.1:${port}`, backoffBaseMs: 10 });
    const s = await runSeeder({
      config: portableConfig(db),
      embedder,
      batchSize: 100,
      workers: 1,
      delaySeconds: 0,
      progress: 'none',
    });
    expect(embedder.stats).toEqual({ requests: 4, retries: 3 });
    expect(s).toMatchObject({ ok: false, failed: 0, migrated: 0, failures: [] });
    expect((s.error as { code?: string }).code).toBe('EMBEDDER_UNREACHABLE');
    expect(await lockFree()).toBe(true);
  });

  test('connection refused, DNS failures and TLS failures count as unreachable; a reset connection does not', () => {
    for (const code of [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EAI_AGAIN',
      'EHOSTUNREACH',
      'CERT_HAS_EXPIRED',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_SSL_WRONG_VERSION_NUMBER',
    ]) {
      expect([code, isUnreachableCause(code)]).toEqual([code, true]);
    }
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'UND_ERR_SOCKET'])
      expect([code, isUnreachableCause(code)]).toEqual([code, false]);
  });

  test('SIGTERM during a retry wait: exit 130 at once (no further attempt), seed lock free', async () => {
    // A 60 s backoff base: the first wait is 30 s (the cap), so the signal surely lands inside it.
    const env = db.env({
      SPARSE_VECTOR_STORAGE: 'json',
      OCEANBASE_COLLECTION: 'memories',
      SPARSE_EMBEDDER_PROVIDER: 'tei',
      SPARSE_EMBEDDER_BASE_URL: `http://127.0.0.1:${port}`,
      SPARSE_EMBEDDER_BACKOFF_BASE_MS: '60000',
    });
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'umzug.js'), 'seed', '--progress', 'plain', '--workers', '1'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const done = collect(child, 60_000);
    let seen = '';
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d) => {
        seen += String(d);
        if (seen.includes('Retrying in 30.0 s (attempt 2 of 4).')) resolve();
      }),
    );
    expect(await lockFree()).toBe(false); // the run holds it while it waits
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stdout.split('Retrying in').length).toBe(2); // the wait was cut short: no second attempt
    expect(r.stdout).toContain('Stopped before the end: in-flight batches were finished, nothing was lost.');
    expect(r.stderr).not.toContain('Error [');
    expect(await stillNull()).toBe(ROWS);
    expect(await lockFree()).toBe(true);
  });
});
