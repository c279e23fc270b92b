/**
 * One backfill run in its own process, so the benchmark can measure its peak RSS and kill it.
 * Arguments, on stdin (not the command line, where ps would show the database password): a JSON object of
 * BackfillOptions (minus config) plus databaseUrl/embedder settings.
 * Prints one JSON line with the summary and the process's peak RSS.
 */
import { performance } from 'node:perf_hooks';
import { runSeeder } from '../src/backfill';
import { resolveConfig } from '../src/config/config';
import { redact } from '../src/util/redact';

/**
 * The live data's size through the run: every second a full collection (node --expose-gc), then the heap
 * in use; the largest reading. RSS also counts garbage not yet collected and memory the heap keeps for
 * later, which grows with a run's length without being held by it.
 */
function liveHeapProbe(): { stop(): number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('liveHeapProbe needs node --expose-gc');
  let max = 0;
  const sample = () => {
    gc();
    max = Math.max(max, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 1000);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return max / 2 ** 20;
    },
  };
}

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const args = JSON.parse(input || '{}');
  const config = resolveConfig(
    { databaseUrl: args.databaseUrl, storage: 'json', table: args.table ?? 'memories', embedder: args.embedder },
    {},
  );
  const probe = args.liveHeapProbe ? liveHeapProbe() : undefined;
  const started = Date.now();
  // The Node side's idle share: event-loop utilization over the run (1 - ELU: the loop waited on I/O,
  // i.e. on the server or the network), and its own CPU time.
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  // With reportProgress, one line {"written":N} after every batch (the parent kills the run at a given N).
  const onProgress = args.reportProgress
    ? (p: { migrated: number }) => process.stdout.write(JSON.stringify({ written: p.migrated }) + '\n')
    : undefined;
  // As `npx umzug seed` runs it: the seeder, its ledger and its resume checkpoint (rerun: a table set back
  // to NULL by the benchmark is run again even when the ledger says done).
  const s = await runSeeder({
    config,
    rerun: true,
    workers: args.workers,
    batchSize: args.batchSize,
    batchChars: args.batchChars,
    delaySeconds: args.delaySeconds ?? 0,
    progress: 'none',
    onProgress,
  });
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const liveHeapMb = probe?.stop();
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    JSON.stringify({
      migrated: s.migrated,
      failed: s.failed,
      workers: s.workers.length,
      seconds: (Date.now() - started) / 1000,
      // From the run's start (after its checks and count) to its end (the final sweep included).
      runSeconds: s.elapsedMs / 1000,
      maxRssMb,
      liveHeapMb,
      eventLoopUtilization: elu,
      nodeCpuSeconds: (cpu.user + cpu.system) / 1e6,
      ok: s.ok,
      read: s.read,
    }) + '\n',
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(redact(String(err?.stack ?? err)) + '\n');
    process.exit(1);
  },
);
