/**
 * One backfill run in its own process, so the benchmark can measure its peak RSS and kill it.
 * Arguments: a JSON object of BackfillOptions (minus config) plus databaseUrl/embedder settings.
 * Prints one JSON line with the summary and the process's peak RSS.
 */
import { runBackfill } from '../src/backfill';
import { resolveConfig } from '../src/config/config';

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}');
  const config = resolveConfig({ databaseUrl: args.databaseUrl, storage: 'json', table: args.table ?? 'memories', embedder: args.embedder }, {});
  const started = Date.now();
  const s = await runBackfill({ config, workers: args.workers, batchSize: args.batchSize, delaySeconds: args.delaySeconds ?? 0, progress: 'none' });
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ migrated: s.migrated, failed: s.failed, seconds: (Date.now() - started) / 1000, maxRssMb, ok: s.ok }) + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(String(err?.stack ?? err) + '\n');
    process.exit(1);
  },
);
