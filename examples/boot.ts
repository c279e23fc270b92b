/**
 * Boot-time example: an application that, on start, applies pending sparse-vector migrations (safe when
 * many instances start at once: they share one advisory lock), then backfills embeddings in the background
 * while it serves requests, and stops the backfill cleanly on shutdown (SIGINT/SIGTERM or --run-for MS).
 *
 *   node dist/examples/boot.js [--run-for 2000]
 */
import http from 'node:http';
import { backfillOnBoot } from '../src/backfill';
import { formatError } from '../src/cli/errors';
import { loadDotenv } from '../src/config/load-env';
import { migrateToLatest } from '../src/migrator/migrate-on-boot';

async function main(): Promise<number> {
  loadDotenv();
  const migrations = await migrateToLatest();
  if (!migrations.ok) {
    console.error(`Sparse-vector migrations failed: ${formatError(migrations.error)}`);
    return 1;
  }
  console.log(
    `[boot] migrations: applied ${migrations.applied.length} (${migrations.applied.join(', ') || 'none'}), already applied ${migrations.alreadyApplied.length}`,
  );

  const backfill = backfillOnBoot({ background: true, workers: 2, delaySeconds: 0 });
  let lastReport = '';
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'ok', backfill: lastReport || 'running' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  console.log(`[boot] serving on http://127.0.0.1:${(server.address() as { port: number }).port}`);

  const stop = () => backfill.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const runFor = process.argv.indexOf('--run-for');
  if (runFor > 0) setTimeout(stop, Number(process.argv[runFor + 1]));

  const result = await backfill.done;
  lastReport = `${result.migrated} embedded, ${result.failed} failed`;
  console.log(
    `[boot] backfill ${result.skippedReason ?? (result.stopped ? 'stopped' : result.ok ? 'finished' : 'ended with errors')}: ` +
      `${result.migrated} embedded, ${result.failed} failed, ${result.remaining} still NULL` +
      (result.error ? ` (${formatError(result.error)})` : ''),
  );
  await new Promise<void>((resolve) => server.close(() => resolve()));
  console.log('[boot] shut down cleanly');
  return result.error ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(formatError(err));
    process.exit(1);
  },
);
