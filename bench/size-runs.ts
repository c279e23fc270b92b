/**
 * One table size and text mix: rounds of (write ceiling, full backfill, kill at ~50% and re-run), their
 * ratios within a round, and (bench mix) the backfill process's memory.
 */
import type { Knex } from 'knex';
import type { TextMix } from '../testing/sample-memories';
import { child } from './child-run';
import { AUTO_THREADS, BATCH, BATCH_CHARS, EXTRA_THREADS, REPEATS, serverCpu, WORKERS } from './flags';
import { results, rows, say, spread } from './report';
import { ensureBufferPool, waitForPurge } from './server-state';
import { backfillOnce, ceilingOnce, countEmbedded, localRun, prepare, resetTable } from './size-setup';

type Round = Record<string, unknown>;
type Figures = Array<Record<string, number>>;

interface Scratch {
  url: string;
  knex: Knex;
  eligible: number;
}

/**
 * Resume: kill at ~50%, then time the re-run (it resumes after the checkpoint the seeder saved); the
 * server's CPU of the re-run against the full run's is a second figure, steadier under load.
 */
async function resumeRound(s: Scratch, full: { seconds: number; serverUsPerRow?: number; nodeCpuSeconds: number }) {
  await resetTable(s.knex);
  await child(localRun(s.url), s.eligible / 2);
  const atKill = (await countEmbedded(s.knex)) / s.eligible;
  await waitForPurge(s.knex);
  const cpu0 = serverCpu?.();
  const rerun = (await child(localRun(s.url)))!;
  const rerunServerS = cpu0 === undefined ? undefined : serverCpu!() - cpu0;
  const fullServerS = ((full.serverUsPerRow ?? 0) * s.eligible) / 1e6;
  return {
    killedAt: atKill,
    resumeSeconds: rerun.seconds,
    resumeRatio: rerun.seconds / full.seconds,
    resumeServerCpuRatio: rerunServerS === undefined ? undefined : rerunServerS / fullServerS,
    // Both processes' CPU (the re-run's Node process and the server) against the full run's: the work the
    // re-run did, whatever else ran on the machine meanwhile.
    resumeCpuRatio:
      rerunServerS === undefined
        ? undefined
        : (rerunServerS + rerun.nodeCpuSeconds) / (fullServerS + full.nodeCpuSeconds),
    resumeRead: rerun.read,
  };
}

async function oneRound(s: Scratch): Promise<Round> {
  const ceiling = await ceilingOnce(s.knex, s.eligible);
  await waitForPurge(s.knex);
  const full = await backfillOnce(s.url, s.eligible);
  const result: Round = {
    ceiling: ceiling.rate,
    ceilingServerUs: ceiling.serverUsPerRow,
    backfill: full.rate,
    backfillServerUs: full.serverUsPerRow,
    backfillNodeUs: (full.nodeCpuSeconds * 1e6) / s.eligible,
    backfillEventLoopUtilization: full.eventLoopUtilization,
    ratio: full.rate / ceiling.rate,
    ceilingStolen: ceiling.stolen,
    backfillStolen: full.stolen,
    seconds: full.seconds,
    peakRssMb: full.maxRssMb,
    ...(await resumeRound(s, full)),
  };
  await s.knex.raw('UPDATE memories SET sparse_embedding = NULL');
  return result;
}

const pick = (rounds: Figures, key: string) => rounds.map((x) => x[key]);

function speedRows(rounds: Figures, what: string, big: boolean): void {
  const ratio = spread(pick(rounds, 'ratio'));
  const server =
    rounds[0].ceilingServerUs !== undefined
      ? `; server CPU per row: ceiling ${spread(pick(rounds, 'ceilingServerUs'), 0).text} µs, backfill ${
          spread(pick(rounds, 'backfillServerUs'), 0).text
        } µs`
      : '';
  const rate = Math.round(spread(pick(rounds, 'backfill'), 0).median).toLocaleString('en-US');
  const stolen = (key: string) =>
    spread(
      pick(rounds, key).map((x) => 100 * x),
      1,
    ).text;
  const steal =
    rounds[0].backfillStolen !== undefined
      ? `; CPU stolen by other guests: ceiling ${stolen('ceilingStolen')}%, backfill ${stolen('backfillStolen')}%`
      : '';
  rows.push({
    measure: `write ceiling (UPDATE…JOIN), ${what}`,
    value: `${Math.round(spread(pick(rounds, 'ceiling'), 0).median).toLocaleString('en-US')} rows/s`,
  });
  rows.push({
    measure: `backfill, local embedder, ${what} (workers ${WORKERS}, batch ${BATCH}${BATCH_CHARS ? ` rows / ${BATCH_CHARS.toLocaleString('en-US')} chars` : ''}, ${AUTO_THREADS} embedder threads)`,
    value: `${rate} rows/s = ${ratio.text} × ceiling${server}${steal}`,
    target: big ? '>= 0.6 × ceiling' : undefined,
    met: big ? ratio.median >= 0.6 : undefined,
  });
  rows.push({
    measure: `backfill's Node process, ${what}`,
    value: `CPU ${spread(pick(rounds, 'backfillNodeUs'), 0).text} µs per row; event loop busy ${
      spread(pick(rounds, 'backfillEventLoopUtilization')).text
    } of the time`,
  });
}

function resumeRows(rounds: Figures, what: string): void {
  const resume = spread(pick(rounds, 'resumeRatio'));
  const cpu = pick(rounds, 'resumeServerCpuRatio').filter((x) => x !== undefined);
  const both = pick(rounds, 'resumeCpuRatio').filter((x) => x !== undefined);
  rows.push({
    measure: `re-run after a kill at ~50%, ${what}`,
    value:
      `${resume.text} × full run` +
      (cpu.length ? `; server CPU ${spread(cpu).text} × the full run's, server + Node CPU ${spread(both).text} ×` : ''),
    target: '<= 0.6 × full run',
    met: resume.median <= 0.6,
  });
}

/** Peak RSS of the rounds; the live heap, from a run of its own with the probe; the other thread setting. */
async function memoryRows(s: Scratch, rounds: Figures, label: string, big: boolean): Promise<Record<string, unknown>> {
  const rss = pick(rounds, 'peakRssMb');
  rows.push({
    measure: `peak RSS of the backfill process, ${label}`,
    value: `${spread(rss, 0).text} MB`,
    target: '<= 200 MB',
    met: Math.max(...rss) <= 200,
  });
  // Peak RSS also counts garbage and heap reserve: the live data is read by a full collection every second.
  await resetTable(s.knex);
  const probed = (await child(localRun(s.url, { liveHeapProbe: true }), undefined, ['--expose-gc']))!;
  rows.push({
    measure: `heap in use after a full collection (the live data), ${label}`,
    value: `${probed.liveHeapMb!.toFixed(0)} MB (peak RSS of that run ${probed.maxRssMb.toFixed(0)} MB)`,
  });
  const out: Record<string, unknown> = { liveHeapMb: probed.liveHeapMb };
  if (big) return out;
  // The other thread setting (threads are opt-in below 4 cores, on by default above): once, at 100k.
  await resetTable(s.knex);
  const other = await backfillOnce(s.url, s.eligible, { embedder: { provider: 'local', threads: EXTRA_THREADS } });
  const ceiling = rounds[rounds.length - 1].ceiling;
  rows.push({
    measure: `backfill, local embedder with ${EXTRA_THREADS} worker threads, ${label}`,
    value: `${Math.round(other.rate).toLocaleString('en-US')} rows/s = ${(other.rate / ceiling).toFixed(2)} × ceiling; peak RSS ${other.maxRssMb.toFixed(0)} MB`,
  });
  return { ...out, otherThreads: EXTRA_THREADS, otherRowsPerSecond: other.rate, otherPeakRssMb: other.maxRssMb };
}

export async function benchSize(baseUrl: string, n: number, mix: TextMix): Promise<void> {
  const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
  const big = n >= 1_000_000;
  say(`\n== ${label} rows, ${mix} mix`);
  const { url, knex, drop, eligible, avgChars, ddlS } = await prepare(baseUrl, n, mix, label);
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
    const rounds: Round[] = [];
    for (let round = 0; round < REPEATS; round++) {
      rounds.push(await oneRound({ url, knex, eligible }));
      say(`round ${round + 1}: ${JSON.stringify(rounds[round])}`);
    }
    const figures = rounds as Figures;
    const what = `${label}, ${mix} mix (avg ${avgChars.toFixed(0)} chars)`;
    speedRows(figures, what, big);
    resumeRows(figures, what);
    const memory = mix === 'bench' ? await memoryRows({ url, knex, eligible }, figures, label, big) : {};
    results[mix === 'bench' ? label : `${label}-${mix}`] = {
      rows: n,
      eligible,
      avgChars,
      ddlSeconds: ddlS,
      rounds,
      ratio: spread(pick(figures, 'ratio')).median,
      ratios: pick(figures, 'ratio'),
      resumeRatio: spread(pick(figures, 'resumeRatio')).median,
      resumeRatios: pick(figures, 'resumeRatio'),
      peakRssMb: Math.max(...pick(figures, 'peakRssMb')),
      ...memory,
    };
  } finally {
    await restorePool?.();
    await drop();
  }
}
