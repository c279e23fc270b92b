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
import { createMemoriesTable, insertSampleMemories, type TextMix } from '../testing/sample-memories';
import { startLocalServer } from '../scripts/local-server';
import { scratchDatabase } from '../testing/scratch-database';
import { startFakeEmbeddingServer } from '../testing/fake-embedding-server';
import { toPortableJson } from '../src/sparse/sparse-vector';
import { silentLogger } from '../src/util/logger';
import { benchLocalEmbedder } from './local-embedder';
import { serverCpuReader } from './server-cpu';
import { ensureBufferPool, waitForPurge } from './server-state';
import { benchWriteForms } from './write-forms';

const ROOT = path.resolve(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'backfill-child.js');
const quick = process.argv.includes('--quick');
const rowsFlag = process.argv.indexOf('--rows');
const sizes = rowsFlag > 0 ? [Number(process.argv[rowsFlag + 1])] : quick ? [100_000] : [100_000, 1_000_000];
if (!sizes.every((n) => Number.isInteger(n) && n >= 1000))
  throw new Error(`--rows needs a whole number >= 1000 (got ${process.argv[rowsFlag + 1]})`);
/** `--only forms,rate-limited`: just those parts (embedder, forms, sizes, remote, rate-limited); printed, not saved. */
const onlyFlag = process.argv.indexOf('--only');
const only = onlyFlag > 0 ? process.argv[onlyFlag + 1].split(',') : [];
const wanted = (part: string) => !only.length || only.includes(part);
/** `--mixes short`: only those text mixes (default: bench,short). */
const mixesFlag = process.argv.indexOf('--mixes');
const MIXES = (mixesFlag > 0 ? process.argv[mixesFlag + 1].split(',') : ['bench', 'short']) as TextMix[];
/** `--rate-workers default,16`: only those worker counts in the rate-limited part (default: default,1,2,4,8,16). */
const rateWorkersFlag = process.argv.indexOf('--rate-workers');
const RATE_WORKERS =
  rateWorkersFlag > 0
    ? process.argv[rateWorkersFlag + 1].split(',').map((w) => (w === 'default' ? undefined : Number(w)))
    : [undefined, 1, 2, 4, 8, 16];
/** `--rate-latency 50`: only that latency in the rate-limited part (default: 50 and 200 ms). */
const rateLatencyFlag = process.argv.indexOf('--rate-latency');
const RATE_LATENCIES = rateLatencyFlag > 0 ? process.argv[rateLatencyFlag + 1].split(',').map(Number) : [50, 200];
const repeatsFlag = process.argv.indexOf('--repeats');
/** Rounds of (ceiling, backfill, kill at 50% and re-run) per size and mix: ratios are taken within a round. */
const REPEATS = repeatsFlag > 0 ? Number(process.argv[repeatsFlag + 1]) : 2;
if (!Number.isInteger(REPEATS) || REPEATS < 1) throw new Error('--repeats needs a whole number >= 1');
/** Threads of the local embedder with the default setting ('auto') on this machine. */
const AUTO_THREADS = autoThreads();
/** Also measured: the local embedder with this many worker threads (an opt-in on machines with < 4 cores). */
const EXTRA_THREADS = AUTO_THREADS > 0 ? 0 : 2;
const WORKERS = 4;
const BATCH = 500;
/** CPU seconds of the private database server so far (undefined: not measurable, see server-cpu.ts). */
const serverCpu = serverCpuReader(ROOT);

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
): Promise<
  | {
      migrated: number;
      failed: number;
      workers: number;
      seconds: number;
      maxRssMb: number;
      read?: unknown;
      eventLoopUtilization: number;
      nodeCpuSeconds: number;
      runSeconds: number;
    }
  | undefined
> {
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

/** median, min and max of a list of figures, as "m (min–max)". */
function spread(xs: number[], digits = 2): { median: number; text: string } {
  const sorted = [...xs].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const f = (x: number) => x.toFixed(digits);
  return { median, text: xs.length > 1 ? `${f(median)} (${f(sorted[0])}–${f(sorted[sorted.length - 1])})` : f(median) };
}

/** Fill a scratch table of `n` rows of the mix, upgrade it, and precompute every vector into a staging table. */
async function prepare(baseUrl: string, n: number, mix: TextMix, label: string) {
  const { url, knex } = await scratchDatabase(baseUrl, `svm_bench_${mix}_${label.toLowerCase()}`);
  await createMemoriesTable(knex);
  const [, genS] = await timed(() => insertSampleMemories(knex, { count: n, chunk: 2000, mix }));
  say(`generated ${n} rows (${mix} mix) in ${genS.toFixed(1)} s`);
  const [eligibleRows] = await knex.raw(
    "SELECT COUNT(*) AS n, AVG(CHAR_LENGTH(document)) AS chars FROM memories WHERE document IS NOT NULL AND TRIM(document) <> ''",
  );
  const [up, ddlS] = await timed(() => migrateToLatest({ databaseUrl: url, storage: 'json', logger: silentLogger }));
  if (!up.ok) throw up.error ?? new Error('the upgrade failed');
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
  return { url, knex, eligible: Number(eligibleRows[0].n), avgChars: Number(eligibleRows[0].chars), ddlS };
}

/** The write ceiling: the staged vectors applied by one UPDATE ... JOIN (rows/s), and the server's CPU for it. */
async function ceilingOnce(knex: Knex, eligible: number): Promise<{ rate: number; serverUsPerRow?: number }> {
  await knex.raw('UPDATE memories SET sparse_embedding = NULL');
  await waitForPurge(knex);
  const cpu0 = serverCpu?.();
  const [, s] = await timed(() =>
    knex.raw('UPDATE memories m JOIN bench_staging st ON m.id = st.id SET m.sparse_embedding = st.v'),
  );
  const cpu = cpu0 === undefined ? undefined : ((serverCpu!() - cpu0) * 1e6) / eligible;
  await knex.raw('UPDATE memories SET sparse_embedding = NULL');
  return { rate: eligible / s, serverUsPerRow: cpu };
}

/** One backfill child from all-NULL; with the server's CPU per row written. */
async function backfillOnce(url: string, eligible: number, extra: Record<string, unknown> = {}) {
  const cpu0 = serverCpu?.();
  const r = (await child({ databaseUrl: url, workers: WORKERS, batchSize: BATCH, ...extra }))!;
  const serverUsPerRow = cpu0 === undefined ? undefined : ((serverCpu!() - cpu0) * 1e6) / eligible;
  return { ...r, rate: r.migrated / r.seconds, serverUsPerRow };
}

async function benchSize(baseUrl: string, n: number, mix: TextMix): Promise<void> {
  const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
  const big = n >= 1_000_000;
  say(`\n== ${label} rows, ${mix} mix`);
  const { url, knex, eligible, avgChars, ddlS } = await prepare(baseUrl, n, mix, label);
  const key = mix === 'bench' ? label : `${label}-${mix}`;
  // The private server's buffer pool (512 MB) is smaller than the 1M-row table: made to hold it (server-state.ts).
  const restorePool = serverCpu && big ? await ensureBufferPool(knex, 2 * 1024 ** 3) : undefined;
  try {
    if (mix === 'bench')
      rows.push({
        measure: `upgrade DDL, ${label} rows`,
        value: `${ddlS.toFixed(2)} s`,
        target: big ? '< 1 s' : undefined,
        met: big ? ddlS < 1 : undefined,
      });
    const ratios: number[] = [];
    const resumes: number[] = [];
    const rss: number[] = [];
    const r: Record<string, unknown> = { rows: n, eligible, avgChars, ddlSeconds: ddlS, rounds: [] as unknown[] };
    for (let round = 0; round < REPEATS; round++) {
      const ceiling = await ceilingOnce(knex, eligible);
      await waitForPurge(knex);
      const full = await backfillOnce(url, eligible);
      ratios.push(full.rate / ceiling.rate);
      rss.push(full.maxRssMb);
      const result: Record<string, unknown> = {
        ceiling: ceiling.rate,
        ceilingServerUs: ceiling.serverUsPerRow,
        backfill: full.rate,
        backfillServerUs: full.serverUsPerRow,
        backfillNodeUs: (full.nodeCpuSeconds * 1e6) / eligible,
        backfillEventLoopUtilization: full.eventLoopUtilization,
        seconds: full.seconds,
        peakRssMb: full.maxRssMb,
      };
      {
        // Resume: kill at ~50%, then time the re-run (it resumes after the checkpoint the seeder saved); the
        // server's CPU of the re-run against the full run's is a second figure, steadier under load.
        await knex.raw('UPDATE memories SET sparse_embedding = NULL');
        await waitForPurge(knex);
        await child({ databaseUrl: url, workers: WORKERS, batchSize: BATCH }, eligible / 2);
        const atKill = (await countEmbedded(knex)) / eligible;
        await waitForPurge(knex);
        const cpu0 = serverCpu?.();
        const rerun = (await child({ databaseUrl: url, workers: WORKERS, batchSize: BATCH }))!;
        const rerunServerS = cpu0 === undefined ? undefined : serverCpu!() - cpu0;
        resumes.push(rerun.seconds / full.seconds);
        Object.assign(result, {
          killedAt: atKill,
          resumeSeconds: rerun.seconds,
          resumeRatio: rerun.seconds / full.seconds,
          resumeServerCpuRatio:
            rerunServerS === undefined ? undefined : rerunServerS / ((full.serverUsPerRow! * eligible) / 1e6),
          // Both processes' CPU (the re-run's Node process and the server) against the full run's: the
          // work the re-run did, whatever else ran on the machine meanwhile.
          resumeCpuRatio:
            rerunServerS === undefined
              ? undefined
              : (rerunServerS + rerun.nodeCpuSeconds) / ((full.serverUsPerRow! * eligible) / 1e6 + full.nodeCpuSeconds),
          resumeRead: rerun.read,
        });
      }
      (r.rounds as unknown[]).push(result);
      await knex.raw('UPDATE memories SET sparse_embedding = NULL');
      say(`round ${round + 1}: ${JSON.stringify(result)}`);
    }
    const rounds = r.rounds as Array<Record<string, number>>;
    const ceil = spread(
      rounds.map((x) => x.ceiling),
      0,
    );
    const ratio = spread(ratios);
    const server =
      rounds[0].ceilingServerUs !== undefined
        ? `; server CPU per row: ceiling ${
            spread(
              rounds.map((x) => x.ceilingServerUs),
              0,
            ).text
          } µs, backfill ${
            spread(
              rounds.map((x) => x.backfillServerUs),
              0,
            ).text
          } µs`
        : '';
    const what = `${label}, ${mix} mix (avg ${avgChars.toFixed(0)} chars)`;
    rows.push({
      measure: `write ceiling (UPDATE…JOIN), ${what}`,
      value: `${Math.round(ceil.median).toLocaleString('en-US')} rows/s`,
    });
    rows.push({
      measure: `backfill, local embedder, ${what} (workers ${WORKERS}, batch ${BATCH}, ${AUTO_THREADS} embedder threads)`,
      value: `${Math.round(
        spread(
          rounds.map((x) => x.backfill),
          0,
        ).median,
      ).toLocaleString('en-US')} rows/s = ${ratio.text} × ceiling${server}`,
      target: big ? '>= 0.6 × ceiling' : undefined,
      met: big ? ratio.median >= 0.6 : undefined,
    });
    rows.push({
      measure: `backfill's Node process, ${what}`,
      value: `CPU ${
        spread(
          rounds.map((x) => x.backfillNodeUs),
          0,
        ).text
      } µs per row; event loop busy ${spread(rounds.map((x) => x.backfillEventLoopUtilization)).text} of the time`,
    });
    Object.assign(r, { ratio: ratio.median, ratios, peakRssMb: Math.max(...rss) });
    const resume = spread(resumes);
    const cpuRatios = rounds.map((x) => x.resumeServerCpuRatio).filter((x) => x !== undefined);
    const bothCpuRatios = rounds.map((x) => x.resumeCpuRatio).filter((x) => x !== undefined);
    rows.push({
      measure: `re-run after a kill at ~50%, ${what}`,
      value:
        `${resume.text} × full run` +
        (cpuRatios.length
          ? `; server CPU ${spread(cpuRatios).text} × the full run's, server + Node CPU ${spread(bothCpuRatios).text} ×`
          : ''),
      target: '<= 0.6 × full run',
      met: resume.median <= 0.6,
    });
    Object.assign(r, { resumeRatio: resume.median, resumeRatios: resumes });
    if (mix === 'bench') {
      rows.push({
        measure: `peak RSS of the backfill process, ${label}`,
        value: `${spread(rss, 0).text} MB`,
        target: '<= 200 MB',
        met: Math.max(...rss) <= 200,
      });

      if (!big) {
        // The other thread setting (threads are opt-in below 4 cores, on by default above): once.
        await waitForPurge(knex);
        const other = await backfillOnce(url, eligible, { embedder: { provider: 'local', threads: EXTRA_THREADS } });
        const ceiling = rounds[rounds.length - 1].ceiling;
        rows.push({
          measure: `backfill, local embedder with ${EXTRA_THREADS} worker threads, ${label}`,
          value: `${Math.round(other.rate).toLocaleString('en-US')} rows/s = ${(other.rate / ceiling).toFixed(2)} × ceiling; peak RSS ${other.maxRssMb.toFixed(0)} MB`,
        });
        Object.assign(r, {
          otherThreads: EXTRA_THREADS,
          otherRowsPerSecond: other.rate,
          otherPeakRssMb: other.maxRssMb,
        });
      }
    }
    results[key] = r;
  } finally {
    await restorePool?.();
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
      } finally {
        await knex.destroy();
      }
    }
  } finally {
    await server.close();
  }
  results.remote = remote;
}

/** Server CPU per row of the candidate write forms (bench/write-forms.ts), on 20k rows of each mix. */
async function benchForms(baseUrl: string): Promise<void> {
  if (!serverCpu) {
    say('\n== write forms: skipped (the server CPU is readable only for the private instance)');
    return;
  }
  const forms: Record<string, unknown> = {};
  for (const mix of ['bench', 'short'] as const) {
    say(`\n== write forms, ${mix} mix`);
    const f = await benchWriteForms(baseUrl, serverCpu, { rows: 20_000, batch: BATCH, repeats: 3, mix });
    forms[mix] = f;
    const us = (x: number) => x.toFixed(1);
    for (const [form, v] of Object.entries(f))
      rows.push({
        measure: `write form ${form}, ${mix} mix, 20k rows, batch ${BATCH}, 3 rounds`,
        value: `server ${us(v.serverUsPerRow.median)} µs/row (${us(v.serverUsPerRow.min)}–${us(v.serverUsPerRow.max)}), Node ${us(v.nodeUsPerRow)} µs/row, wall ${us(v.wallUsPerRow)} µs/row`,
      });
  }
  results.writeForms = forms;
}

/**
 * A rate-limited DashScope-speaking peer (token bucket 20 requests/s, 10 texts per request; latency 50 ms,
 * and 200 ms, where reaching the quota needs 4 requests in flight), as a user runs it without tuning
 * (default batch size and delay): rows/s against the limit of 200 rows/s, 429s and failed rows, with the
 * default workers and with 1…16.
 */
async function benchRateLimited(baseUrl: string): Promise<void> {
  const limit = 20 * 10;
  const out: Record<string, unknown> = {};
  for (const latencyMs of RATE_LATENCIES) {
    say(`\n== rate-limited remote embedder (20 requests/s token bucket, ${latencyMs} ms, 10 texts per request)`);
    for (const workers of RATE_WORKERS) {
      const server = await startFakeEmbeddingServer({ flavor: 'qwen', latencyMs, rateLimit: { perSecond: 20 } });
      const { url, knex } = await scratchDatabase(baseUrl, 'svm_bench_ratelimited');
      try {
        const n = 4000;
        await createMemoriesTable(knex);
        await insertSampleMemories(knex, { count: n, emptyRate: 0, duplicateRate: 0 });
        const up = await migrateToLatest({ databaseUrl: url, storage: 'json', logger: silentLogger });
        if (!up.ok) throw up.error ?? new Error('the upgrade failed');
        const r = (await child({
          databaseUrl: url,
          workers,
          embedder: { provider: 'qwen', apiKey: 'bench-key', baseUrl: server.url },
        }))!;
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
        await knex.destroy();
        await server.close();
      }
    }
  }
  results.rateLimited = out;
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

  if (wanted('embedder')) {
    const emb = await benchLocalEmbedder();
    rows.push({
      measure: 'local embedder alone',
      value: `${Math.round(emb.textsPerSecond).toLocaleString('en-US')} texts/s (avg ${emb.avgChars.toFixed(0)} chars)`,
    });
    results.localEmbedder = emb;
  }
  if (wanted('forms')) await benchForms(baseUrl);
  if (wanted('sizes')) for (const n of sizes) for (const mix of MIXES) await benchSize(baseUrl, n, mix);
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
  if (wanted('remote')) await benchRemote(baseUrl);
  if (wanted('rate-limited')) await benchRateLimited(baseUrl);
  if (only.length) {
    // A part only: printed, not written over the whole run's figures.
    say('\n' + table());
    return;
  }

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
