/** The remote embedder's runs: a peer with fixed latency, and a rate-limited DashScope-speaking peer. */
import { migrateToLatest } from '../src/migrator/migrate-on-boot';
import { silentLogger } from '../src/util/logger';
import { startFakeEmbeddingServer } from '../testing/fake-embedding-server';
import { createMemoriesTable, insertSampleMemories } from '../testing/sample-memories';
import { scratchDatabase } from '../testing/scratch-database';
import { child } from './child-run';
import { RATE_LATENCIES, RATE_WORKERS } from './flags';
import { results, rows, say } from './report';

/** A scratch table of `n` rows, upgraded, then one backfill child against the peer at `embedderUrl`. */
async function remoteRun(
  baseUrl: string,
  name: string,
  n: number,
  embedderUrl: string,
  extra: Record<string, unknown>,
) {
  const { url, knex, drop } = await scratchDatabase(baseUrl, name);
  try {
    await createMemoriesTable(knex);
    await insertSampleMemories(knex, { count: n, emptyRate: 0, duplicateRate: 0 });
    const up = await migrateToLatest({ databaseUrl: url, storage: 'json', logger: silentLogger });
    if (!up.ok) throw up.error ?? new Error('the upgrade failed');
    const embedder = { provider: 'qwen', apiKey: 'bench-key', baseUrl: embedderUrl };
    return (await child({ databaseUrl: url, embedder, ...extra }))!;
  } finally {
    await drop();
  }
}

export async function benchRemote(baseUrl: string): Promise<void> {
  say('\n== remote embedder (qwen wire format, 100 ms per request, 10 texts per request)');
  const server = await startFakeEmbeddingServer({ flavor: 'qwen', latencyMs: 100 });
  const remote: Record<string, unknown> = {};
  try {
    for (const workers of [1, 2, 4, 8]) {
      const n = 1000 * workers;
      const r = await remoteRun(baseUrl, 'svm_bench_remote', n, server.url, { workers, batchSize: 10 });
      const rate = r.migrated / r.seconds;
      const theory = (workers * 10) / 0.1;
      rows.push({
        measure: `backfill, remote embedder, workers ${workers}`,
        value: `${Math.round(rate)} rows/s = ${(rate / theory).toFixed(2)} × theoretical ${theory}; ${(r.migrated / r.runSeconds / theory).toFixed(2)} × from the run's start (after its checks) to its end`,
        target: '>= 0.9 × theoretical',
        met: rate / theory >= 0.9,
      });
      remote[`workers${workers}`] = {
        rows: n,
        rowsPerSecond: rate,
        theoretical: theory,
        ratio: rate / theory,
        runRatio: r.migrated / r.runSeconds / theory,
        startSeconds: r.seconds - r.runSeconds,
      };
    }
  } finally {
    await server.close();
  }
  results.remote = remote;
}

/**
 * A rate-limited DashScope-speaking peer (token bucket 20 requests/s, 10 texts per request; latency 50 ms,
 * and 200 ms, where reaching the quota needs 4 requests in flight), as a user runs it without tuning
 * (default batch size and delay): rows/s against the limit of 200 rows/s, 429s and failed rows, with the
 * default workers and with 1…16.
 */
export async function benchRateLimited(baseUrl: string): Promise<void> {
  const limit = 20 * 10;
  const out: Record<string, unknown> = {};
  for (const latencyMs of RATE_LATENCIES) {
    say(`\n== rate-limited remote embedder (20 requests/s token bucket, ${latencyMs} ms, 10 texts per request)`);
    for (const workers of RATE_WORKERS) {
      const server = await startFakeEmbeddingServer({ flavor: 'qwen', latencyMs, rateLimit: { perSecond: 20 } });
      try {
        const n = 4000;
        const r = await remoteRun(baseUrl, 'svm_bench_ratelimited', n, server.url, { workers });
        const rate = r.migrated / r.seconds;
        const name = workers === undefined ? `default (${r.workers})` : String(workers);
        const goal = workers === undefined || workers === 16;
        rows.push({
          measure: `backfill, rate-limited remote embedder (${latencyMs} ms), workers ${name}`,
          value:
            `${Math.round(rate)} rows/s = ${(rate / limit).toFixed(2)} × the limit ${limit}; ` +
            `${server.limits.rateLimited} answers 429; ${r.failed} failed rows; ` +
            `${(r.migrated / r.runSeconds / limit).toFixed(2)} × from the run's start (after its checks) to its end`,
          target: goal ? '>= 0.9 × limit, 0 failed' : undefined,
          met: goal ? rate / limit >= 0.9 && r.failed === 0 : undefined,
        });
        out[`${latencyMs}ms-workers-${name}`] = {
          rows: n,
          rowsPerSecond: rate,
          ratio: rate / limit,
          runRatio: r.migrated / r.runSeconds / limit,
          rateLimited: server.limits.rateLimited,
          failed: r.failed,
        };
      } finally {
        await server.close();
      }
    }
  }
  results.rateLimited = out;
}
