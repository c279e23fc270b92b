/**
 * `npm run bench [-- --quick | -- --rows N]`: backfill speed against the server's write ceiling,
 * memory, remote-embedder efficiency, resume cost and upgrade DDL time, on the local MariaDB (portable mode).
 * Writes a table to stdout, bench/results.json and the figures section of docs/benchmarks.md.
 * Flags: bench/flags.ts.
 */
import os from 'node:os';
import knexFactory from 'knex';
import { parseDatabaseUrl } from '../src/config/connection-config';
import { mysql2Options } from '../src/db/knex';
import { startLocalServer } from '../scripts/local-server';
import {
  AUTO_THREADS,
  BATCH,
  BATCH_CHARS,
  FORMS_BATCH,
  MIXES,
  only,
  quick,
  ROOT,
  serverCpu,
  sizes,
  wanted,
  WORKERS,
} from './flags';
import { benchLocalEmbedder } from './local-embedder';
import { benchRateLimited, benchRemote } from './remote-runs';
import { results, rows, say, table, writeReport } from './report';
import { benchSize } from './size-runs';
import { benchWriteForms } from './write-forms';

/** Server CPU per row of the candidate write forms (bench/write-forms.ts), on 20k rows of each mix. */
async function benchForms(baseUrl: string): Promise<void> {
  if (!serverCpu) {
    say('\n== write forms: skipped (the server CPU is readable only for the private instance)');
    return;
  }
  const forms: Record<string, unknown> = {};
  for (const mix of ['bench', 'short'] as const) {
    say(`\n== write forms, ${mix} mix`);
    const f = await benchWriteForms(baseUrl, serverCpu, { rows: 20_000, batch: FORMS_BATCH, repeats: 3, mix });
    forms[mix] = f;
    const us = (x: number) => x.toFixed(1);
    for (const [form, v] of Object.entries(f))
      rows.push({
        measure: `write form ${form}, ${mix} mix, 20k rows, batch ${FORMS_BATCH}, 3 rounds`,
        value: `server ${us(v.serverUsPerRow.median)} µs/row (${us(v.serverUsPerRow.min)}–${us(v.serverUsPerRow.max)}), Node ${us(v.nodeUsPerRow)} µs/row, wall ${us(v.wallUsPerRow)} µs/row`,
      });
  }
  results.writeForms = forms;
}

/** How a figure of the 1M-row run compares with the 100k-row run's: the memory goal (flat, <= 1.2×). */
function growthRow(measure: string, key: 'peakRssMb' | 'liveHeapMb', resultKey: string): void {
  const small = (results['100k'] as Record<string, number> | undefined)?.[key];
  const large = (results['1M'] as Record<string, number> | undefined)?.[key];
  if (!small || !large) return;
  const growth = large / small;
  rows.push({ measure, value: `${growth.toFixed(2)}×`, target: 'flat (<= 1.2×)', met: growth <= 1.2 });
  results[resultKey] = growth;
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
  growthRow('peak RSS, 1M rows / 100k rows', 'peakRssMb', 'rssGrowth');
  growthRow('heap in use after a full collection (the live data), 1M rows / 100k rows', 'liveHeapMb', 'liveHeapGrowth');
  if (wanted('remote')) await benchRemote(baseUrl);
  if (wanted('rate-limited')) await benchRateLimited(baseUrl);
  if (only.length) {
    // A part only: printed, not written over the whole run's figures.
    say('\n' + table());
    return;
  }
  const date = new Date().toISOString().slice(0, 10);
  const heading = `Measured ${date} on ${machine}, ${v.v} (portable JSON mode), rows: ${sizes.map((n) => n.toLocaleString('en-US')).join(', ')}${quick ? ' (--quick)' : ''}.`;
  const meta = {
    date,
    machine,
    server: v.v,
    quick,
    sizes,
    workers: WORKERS,
    batchSize: BATCH,
    batchChars: BATCH_CHARS,
    embedderThreads: AUTO_THREADS,
  };
  writeReport(ROOT, meta, heading);
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
