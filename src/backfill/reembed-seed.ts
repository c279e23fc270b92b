import type { Knex } from 'knex';
import type { SparseVectorConfig } from '../config/config';
import { describeFingerprint } from '../embedders/fingerprint';
import type { SparseEmbedder } from '../embedders/types';
import type { SparseSchemaContext } from '../schema/sparse-schema';
import { prepareTermStats, rebuildTermStats, termStatsTable } from '../stats/term-stats';
import { redact } from '../util/redact';
import { checkBackfillSpace } from './embedding-space';
import { runBackfill } from './engine';
import { DEFAULTS, type BackfillOptions } from './options';
import { rewriteStoredVectors, type ReembedResult } from './reembed';
import type { BackfillReporter } from './reporter';
import { BACKFILL_SEEDER, type SeedLedger, type SeedRecord } from './seed-ledger';
import { emptySummary, type BackfillSummary } from './summary';

/** What the seeder hands to a re-embed (under its lock, after its checks). */
export interface ReembedSeed {
  options: BackfillOptions;
  knex: Knex;
  reporter: BackfillReporter;
  ledger: SeedLedger;
  record: SeedRecord | undefined;
  embedder: SparseEmbedder;
  schema: SparseSchemaContext;
  /** The new embedder's fingerprint (canonical). */
  to: string;
}

/**
 * A re-embed run (runSeeder with `reembed`): record "re-embed in progress: from X to Y" in the ledger, rewrite
 * every stored vector in place from the checkpoint (rewriteStoredVectors), embed the NULL rows with the new
 * embedder (the usual backfill), rebuild the term statistics for a local embedder, and only then record Y as
 * the table's embedder. Stopped, killed or failed: the next run with the same embedder resumes at the checkpoint.
 */
export async function runReembed(s: ReembedSeed): Promise<BackfillSummary & { reembed: ReembedResult }> {
  const { options, knex, ledger, record, to } = s;
  const config = options.config;
  const inProgress = record?.reembed_to === to;
  await ledger.start(knex, BACKFILL_SEEDER, { check: (r) => checkBackfillSpace(r, to, config, true) });
  await ledger.beginReembed(knex, BACKFILL_SEEDER, to);
  const started = Date.now();
  const pass = await rewriteStoredVectors({
    knex,
    schema: s.schema,
    embedder: s.embedder,
    ledger,
    seeder: BACKFILL_SEEDER,
    to,
    from: record?.embedder_fingerprint,
    after: inProgress ? record?.reembed_after : undefined,
    batchSize: options.batchSize ?? DEFAULTS.batchSize,
    limit: options.limit,
    signal: options.signal,
    reporter: s.reporter,
  });
  if (!pass.complete) return unfinished(s, pass, Date.now() - started);
  if (s.embedder.provider === 'local') await rebuildStats(knex, config, s.schema);
  // Rows without a vector (new ones, or emptied by the application) get the new embedder's too.
  const summary = await runBackfill({ ...options, limit: undefined, embedder: s.embedder, knex, schema: s.schema });
  if (summary.error || summary.stopped) return unfinished(s, pass, summary.elapsedMs, summary);
  await ledger.completeReembed(knex, BACKFILL_SEEDER, to);
  s.reporter.message(
    `Re-embed complete: ${pass.rewritten} stored vectors rewritten; ${config.table}.${config.sparseColumn} is now recorded as ${describeFingerprint(to)}.`,
  );
  await ledger.finish(knex, BACKFILL_SEEDER, {
    status: summary.remaining + summary.failed === 0 ? 'done' : 'incomplete',
    migrated: summary.migrated + pass.rewritten,
    failed: summary.failed,
  });
  return { ...summary, reembed: pass };
}

async function rebuildStats(knex: Knex, config: SparseVectorConfig, schema: SparseSchemaContext): Promise<void> {
  // The statistics counted the old vectors' indices: count the new ones.
  const table = termStatsTable(config.table);
  await prepareTermStats(knex, schema.target, schema.dialect, table);
  await rebuildTermStats(knex, schema.target, schema.dialect, table);
}

/** Stopped, limited or failed before the switch: the ledger keeps "in progress" and its checkpoint. */
async function unfinished(
  s: ReembedSeed,
  pass: ReembedResult,
  elapsedMs: number,
  after?: BackfillSummary,
): Promise<BackfillSummary & { reembed: ReembedResult }> {
  const error = after?.error ?? pass.error;
  const stopped = after?.stopped ?? (!!s.options.signal?.aborted && !error);
  await s.ledger.finish(s.knex, BACKFILL_SEEDER, {
    status: 'incomplete',
    migrated: pass.rewritten + (after?.migrated ?? 0),
    failed: after?.failed ?? 0,
    error: error ? redact(error.message) : undefined,
  });
  if (error) s.reporter.message(`The re-embed stopped on an error: ${redact(error.message)}`);
  s.reporter.message(
    `The re-embed is not complete (${pass.rewritten} vectors rewritten by this run); the ledger keeps its checkpoint. ` +
      'Until it completes, search accepts both embedders and the results mix the two. Run the same command again to continue.',
  );
  const base = after ?? { ...emptySummary(false), elapsedMs };
  // A limited run that did what it was asked is fine; the re-embed goes on with the next run.
  return { ...base, ok: !error && !stopped && (after?.ok ?? true), stopped, error, reembed: pass };
}
