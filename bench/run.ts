/**
 * `npm run bench [-- --quick | -- --rows N]`: backfill speed against the server's write ceiling,
 * memory, remote-embedder efficiency, resume cost and upgrade DDL time, on the local MariaDB (portable mode).
 * Writes a table to stdout, bench/results.json and the figures section of docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { parseDatabaseUrl } from '../src/config/connection-config';
import { mysql2Options } from '../src/db/knex';
import { LocalSparseEmbedder } from '../src/embedders/local';
import { autoThreads } from '../src/embedders/local/thread-pool';
import { migrateToLatest } from '../src/migrator/migrate-on-boot';
import { createMemoriesTable, insertSampleMemories } from '../testing/sample-memories';
import { startLocalServer } from '../scripts/local-server';
import { scratchDatabase } from '../testing/scratch-database';
import { startFakeEmbeddingServer } from '../testing/fake-embedding-server';
import { toPortableJson } from '../src/sparse/sparse-vector';
import { silentLogger } from '../src/util/logger';
import { benchLocalEmbedder } from './local-embedder';

const ROOT = path.resolve(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'backfill-child.js');
const quick = process.argv.includes('--quick');
const rowsFlag = process.argv.indexOf('--rows');
const sizes = rowsFlag > 0 ? [Number(process.argv[rowsFlag + 1])] : quick ? [100_000] : [100_000, 1_000_000];
if (!sizes.every((n) => Number.isInteger(n) && n >= 1000))
  throw new Error(`--rows needs a whole number >= 1000 (got ${process.argv[rowsFlag + 1]})`);
/** Threads of the local embedder with the default setting ('auto') on this machine. */
const AUTO_THREADS = autoThreads();
/** Also measured: the local embedder with this many worker threads (an opt-in on machines with < 4 cores). */
const EXTRA_THREADS = AUTO_THREADS > 0 ? 0 : 2;
const WORKERS = 4;
const BATCH = 500;

interface Row {
  measure: string;
  value: string;
  target?: string;
  met?: boolean;
}
const rows: Row[] = [];
const results: Record<string, unknown> = {};
const say = (s: string) => process.stdout.write(s + '\n');

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e9];
}

/**
 * Run one backfill in a child process. With `killAt`, the child reports its progress (rows written) on
 * stdout and is killed with SIGKILL once it has written that many rows (no polling of the table).
 */
function child(
  args: Record<string, unknown>,
  killAt?: number,
): Promise<{ migrated: number; seconds: number; maxRssMb: number } | undefined> {
  return new Promise((resolve, reject) => {
    // Arguments go through stdin: a command line (with the database URL and its password) is visible in ps.
    const p = spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    p.stdin.end(JSON.stringify({ ...args, reportProgress: killAt !== undefined }));
    let out = '';
    let checked = 0;
    p.stdout.on('data', (d) => {
      out += d;
      if (killAt === undefined) return;
      const end = out.lastIndexOf('\n');
      for (const line of out.slice(checked, end).split('\n')) {
        const m = /^\{"written":(\d+)\}$/.exec(line.trim());
        if (m && Number(m[1]) >= killAt) p.kill('SIGKILL');
      }
      checked = end + 1;
    });
    p.on('close', (code, signal) => {
      if (signal === 'SIGKILL') return resolve(undefined);
      if (code !== 0) return reject(new Error(`backfill child exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}

async function countEmbedded(knex: Knex): Promise<number> {
  const [r] = await knex.raw('SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NOT NULL');
  return Number(r[0].n);
}

async function benchSize(baseUrl: string, n: number): Promise<void> {
  const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
  say(`\n== ${label} rows`);
  const { url, knex } = await scratchDatabase(baseUrl, `svm_bench_${label.toLowerCase()}`);
  try {
    await createMemoriesTable(knex);
    const [, genS] = await timed(() => insertSampleMemories(knex, { count: n, chunk: 2000 }));
    say(`generated ${n} rows in ${genS.toFixed(1)} s (${Math.round(n / genS)} rows/s)`);
    const [eligibleRows] = await knex.raw(
      "SELECT COUNT(*) AS n FROM memories WHERE document IS NOT NULL AND TRIM(document) <> ''",
    );
    const eligible = Number(eligibleRows[0].n);

    // Upgrade DDL on the filled table.
    const [up, ddlS] = await timed(() => migrateToLatest({ databaseUrl: url, storage: 'json', logger: silentLogger }));
    if (!up.ok) throw up.error ?? new Error('the upgrade failed');
    rows.push({
      measure: `upgrade DDL, ${label} rows`,
      value: `${ddlS.toFixed(2)} s`,
      target: n >= 1_000_000 ? '< 1 s' : undefined,
      met: n >= 1_000_000 ? ddlS < 1 : undefined,
    });

    // Write ceiling: the same vectors, precomputed into a staging table, applied by one UPDATE ... JOIN.
    const embedder = new LocalSparseEmbedder();
    await knex.raw('CREATE TABLE bench_staging (id BIGINT NOT NULL PRIMARY KEY, v LONGTEXT NOT NULL)');
    let last = '0';
    for (;;) {
      const [batch] = await knex.raw(
        "SELECT id, document FROM memories WHERE id > CAST(? AS SIGNED) AND document IS NOT NULL AND TRIM(document) <> '' ORDER BY id LIMIT 5000",
        [last],
      );
      if (!batch.length) break;
      last = String(batch[batch.length - 1].id);
      await knex('bench_staging').insert(
        batch.map((r: { id: string; document: string }) => ({
          id: r.id,
          v: toPortableJson(embedder.embed(r.document, 'document')),
        })),
      );
    }
    const [, ceilS] = await timed(() =>
      knex.raw('UPDATE memories m JOIN bench_staging s ON m.id = s.id SET m.sparse_embedding = s.v'),
    );
    const ceiling = eligible / ceilS;
    await knex.raw('DROP TABLE bench_staging');

    // Backfill with the local embedder, end to end, in its own process (peak RSS).
    await knex.raw('UPDATE memories SET sparse_embedding = NULL');
    const full = (await child({ databaseUrl: url, workers: WORKERS, batchSize: BATCH }))!;
    const rate = full.migrated / full.seconds;
    rows.push({
      measure: `write ceiling (UPDATE…JOIN), ${label}`,
      value: `${Math.round(ceiling).toLocaleString('en-US')} rows/s`,
    });
    rows.push({
      measure: `backfill, local embedder, ${label} (workers ${WORKERS}, batch ${BATCH}, ${AUTO_THREADS} embedder threads: the default here)`,
      value: `${Math.round(rate).toLocaleString('en-US')} rows/s = ${(rate / ceiling).toFixed(2)} × ceiling`,
      target: n >= 1_000_000 ? '>= 0.6 × ceiling' : undefined,
      met: n >= 1_000_000 ? rate / ceiling >= 0.6 : undefined,
    });
    rows.push({
      measure: `peak RSS of the backfill process, ${label}`,
      value: `${full.maxRssMb.toFixed(0)} MB`,
      target: '<= 200 MB',
      met: full.maxRssMb <= 200,
    });
    results[label] = {
      rows: n,
      eligible,
      generateSeconds: genS,
      ddlSeconds: ddlS,
      ceilingRowsPerSecond: ceiling,
      embedderThreads: AUTO_THREADS,
      backfillRowsPerSecond: rate,
      ratio: rate / ceiling,
      backfillSeconds: full.seconds,
      peakRssMb: full.maxRssMb,
    };

    // The same with the other thread setting (threads are opt-in below 4 cores, on by default above).
    await knex.raw('UPDATE memories SET sparse_embedding = NULL');
    const other = (await child({
      databaseUrl: url,
      workers: WORKERS,
      batchSize: BATCH,
      embedder: { provider: 'local', threads: EXTRA_THREADS },
    }))!;
    const otherRate = other.migrated / other.seconds;
    rows.push({
      measure: `backfill, local embedder with ${EXTRA_THREADS} worker threads, ${label}`,
      value: `${Math.round(otherRate).toLocaleString('en-US')} rows/s = ${(otherRate / ceiling).toFixed(2)} × ceiling; peak RSS ${other.maxRssMb.toFixed(0)} MB`,
    });
    Object.assign(results[label] as object, {
      otherThreads: EXTRA_THREADS,
      otherRowsPerSecond: otherRate,
      otherRatio: otherRate / ceiling,
      otherPeakRssMb: other.maxRssMb,
    });

    // Resume: kill at ~50%, then time the re-run.
    await knex.raw('UPDATE memories SET sparse_embedding = NULL');
    await child({ databaseUrl: url, workers: WORKERS, batchSize: BATCH }, eligible / 2);
    const atKill = await countEmbedded(knex);
    const rerun = (await child({ databaseUrl: url, workers: WORKERS, batchSize: BATCH }))!;
    const resumeRatio = rerun.seconds / full.seconds;
    rows.push({
      measure: `re-run after a kill at ${((100 * atKill) / eligible).toFixed(0)}%, ${label}`,
      value: `${rerun.seconds.toFixed(1)} s = ${resumeRatio.toFixed(2)} × full run`,
      target: '<= 0.6 × full run',
      met: resumeRatio <= 0.6,
    });
    Object.assign(results[label] as object, {
      resumeKilledAtFraction: atKill / eligible,
      resumeSeconds: rerun.seconds,
      resumeRatio,
    });
  } finally {
    await knex.destroy();
  }
}

async function benchRemote(baseUrl: string): Promise<void> {
  say('\n== remote embedder (qwen wire format, 100 ms per request, 10 texts per request)');
  const server = await startFakeEmbeddingServer({ flavor: 'qwen', latencyMs: 100 });
  const remote: Record<string, unknown> = {};
  try {
    for (const workers of [1, 2, 4, 8]) {
      const n = 1000 * workers;
      const { url, knex } = await scratchDatabase(baseUrl, 'svm_bench_remote');
      try {
        await createMemoriesTable(knex);
        await insertSampleMemories(knex, { count: n, emptyRate: 0, duplicateRate: 0 });
        const up = await migrateToLatest({ databaseUrl: url, storage: 'json', logger: silentLogger });
        if (!up.ok) throw up.error ?? new Error('the upgrade failed');
        const r = (await child({
          databaseUrl: url,
          workers,
          batchSize: 10,
          embedder: { provider: 'qwen', apiKey: 'bench-key', baseUrl: server.url },
        }))!;
        const rate = r.migrated / r.seconds;
        const theory = (workers * 10) / 0.1;
        rows.push({
          measure: `backfill, remote embedder, workers ${workers}`,
          value: `${Math.round(rate)} rows/s = ${(rate / theory).toFixed(2)} × theoretical ${theory}`,
          target: '>= 0.9 × theoretical',
          met: rate / theory >= 0.9,
        });
        remote[`workers${workers}`] = { rows: n, rowsPerSecond: rate, theoretical: theory, ratio: rate / theory };
      } finally {
        await knex.destroy();
      }
    }
  } finally {
    await server.close();
  }
  results.remote = remote;
}

function table(): string {
  const lines = ['| measure | value | target | met |', '|---|---|---|---|'];
  for (const r of rows)
    lines.push(
      `| ${r.measure} | ${r.value} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} |`,
    );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const baseUrl = process.env.SPARSE_BENCH_DATABASE_URL ?? startLocalServer();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const k = knexFactory({ client: 'mysql2', connection: mysql2Options(parseDatabaseUrl(baseUrl)) });
  const [[v]] = await k.raw('SELECT VERSION() AS v');
  await k.destroy();
  say(`machine: ${machine}; server: ${v.v}`);

  const emb = await benchLocalEmbedder();
  rows.push({
    measure: 'local embedder alone',
    value: `${Math.round(emb.textsPerSecond).toLocaleString('en-US')} texts/s (avg ${emb.avgChars.toFixed(0)} chars)`,
  });
  results.localEmbedder = emb;
  for (const n of sizes) await benchSize(baseUrl, n);
  const small = results['100k'] as { peakRssMb: number } | undefined;
  const large = results['1M'] as { peakRssMb: number } | undefined;
  if (small && large) {
    const growth = large.peakRssMb / small.peakRssMb;
    rows.push({
      measure: 'peak RSS, 1M rows / 100k rows',
      value: `${growth.toFixed(2)}×`,
      target: 'flat (<= 1.2×)',
      met: growth <= 1.2,
    });
    results.rssGrowth = growth;
  }
  await benchRemote(baseUrl);

  const date = new Date().toISOString().slice(0, 10);
  const out = {
    date,
    machine,
    server: v.v,
    quick,
    sizes,
    workers: WORKERS,
    batchSize: BATCH,
    embedderThreads: AUTO_THREADS,
    results,
    table: rows,
  };
  fs.writeFileSync(path.join(ROOT, 'bench', 'results.json'), JSON.stringify(out, null, 2) + '\n');
  const doc = path.join(ROOT, 'docs', 'benchmarks.md');
  const section = `<!-- figures:start -->\nMeasured ${date} on ${machine}, ${v.v} (portable JSON mode), rows: ${sizes.map((n) => n.toLocaleString('en-US')).join(', ')}${quick ? ' (--quick)' : ''}.\n\n${table()}\n<!-- figures:end -->`;
  const text = fs.existsSync(doc)
    ? fs.readFileSync(doc, 'utf8')
    : '# Benchmarks\n\n<!-- figures:start -->\n<!-- figures:end -->\n';
  fs.writeFileSync(doc, text.replace(/<!-- figures:start -->[\s\S]*<!-- figures:end -->/, section));
  say('\n' + table());
  say(`\nwrote bench/results.json and docs/benchmarks.md`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
