import type { Knex } from 'knex';
import { requireConnection, type SparseVectorConfig } from '../config/config';
import type { ConnectionConfig } from '../config/connection-config';
import { discoverTable } from '../config/table-discovery';
import { checkConnection, createKnex, withKnex } from '../db/knex';
import { acquireLock, type HeldLock } from '../db/lock';
import { SparseVectorError } from '../errors';
import { canonicalFingerprint, createEmbedder, fingerprintOf } from '../embedders';
import type { SparseTarget } from '../dialect/dialect';
import { checkBackfillSpace, releaseEmptySpace } from './embedding-space';
import { runBackfill } from './engine';
import { checkBackfillNumbers, defaultWorkers, type BackfillOptions } from './options';
import { hasEligibleRow } from './queries';
import type { ReembedResult } from './reembed';
import { runReembed } from './reembed-seed';
import { BackfillReporter } from './reporter';
import { CheckpointSaver } from './checkpoint-saver';
import { failedRunEnd, resumeOf, runEnd, shardKey, startPlan } from './seed-decisions';
import { BACKFILL_SEEDER, SeedLedger, type SeedRecord } from './seed-ledger';
import { seedLockName } from './schema-guard';
import { downgradeLockName, enterShard, otherBackfillRuns } from './shard-presence';
import { emptySummary, type BackfillSummary } from './summary';
import { checkBackfillTarget } from './target';

export { emptySummary } from './summary';

export { BACKFILL_SEEDER } from './seed-ledger';

export interface SeederResult extends BackfillSummary {
  /**
   * Why nothing ran: the ledger says the backfill is done (and `rerun` was not set), or another run holds
   * this table's (shard's) backfill lock.
   */
  skippedReason?: 'already-done' | 'busy';
  /** A re-embed run (option reembed): what its rewrite pass did, and whether the table is now in the new space. */
  reembed?: ReembedResult;
}

/**
 * The backfill as a tracked data seeder (`npx umzug seed`, `npx knex seed:run`, backfillOnBoot, the
 * migrate-sparse-vector script).
 *
 * - A per-table (per-shard) advisory lock keeps two identical runs apart: a second one returns at once
 *   with skippedReason 'busy' (several application instances may all call it at boot).
 * - The seeds ledger (config.seedsTable) records each run: status 'running' while it runs, then 'done'
 *   only when no eligible NULL row is left in the whole table, else 'incomplete'; runs, the last run's
 *   migrated/failed figures, start and end times and error.
 * - The ledger records the embedder's fingerprint (the embedding space of the stored vectors); a run with
 *   another embedder is refused (EMBEDDER_CHANGED) before anything is changed, unless it is a re-embed
 *   (`reembed`, see reembed-seed.ts), the way to change the embedder of a table.
 * - 'done' is a cache, never a reason to leave NULL rows: once done, a run costs one ledger read and one
 *   probe for an eligible row (`SELECT 1 ... LIMIT 1`); it runs when the probe finds one (rows that became
 *   NULL since, a column dropped and added again). `rerun` skips the probe and always runs. A dry run always
 *   runs and never touches the ledger.
 */
export async function runSeeder(options: BackfillOptions & { knex?: Knex }): Promise<SeederResult> {
  checkBackfillNumbers(options); // bad options: refused before the database (and the ledger) is touched
  const connection = requireConnection(options.config);
  const reporter = new BackfillReporter(options);
  const provider = options.embedder?.provider ?? options.config.embedder.provider;
  const create = () => createKnex(connection, { pool: (options.workers ?? defaultWorkers(provider)) + 3 });
  return withKnex(options.knex, create, async (knex) => {
    let lock: HeldLock | undefined;
    let presence: HeldLock | undefined;
    try {
      await checkConnection(knex, connection);
      const config = await discoverTable(knex, options.config, options.logger);
      const shard = shardKey(options.shard);
      lock = await seedLock(connection, config, shard);
      if (!lock) {
        reporter.message(
          `Another backfill run is already working on table '${config.table}'${shard ? ` (shard ${shard.slice(1)})` : ''}; nothing to do here.`,
        );
        return skipped(reporter, { ...emptySummary(!!options.dryRun), ok: true, skippedReason: 'busy' });
      }
      if (shard && !(presence = await shardPresence(knex, connection, config, options.shard!.index))) {
        reporter.message(
          `A downgrade of table '${config.table}' is running; shard ${shard.slice(1)} does not start (the downgrade removes the column it would write).`,
        );
        return skipped(reporter, { ...emptySummary(!!options.dryRun), ok: true, skippedReason: 'busy' });
      }
      return await seed({ ...options, config }, knex, reporter, shard);
    } finally {
      await presence?.release();
      await lock?.release();
    }
  });
}

/** The table's (shard's) backfill lock, or undefined when another run holds it. */
async function seedLock(
  connection: ConnectionConfig,
  config: SparseVectorConfig,
  shard: string,
): Promise<HeldLock | undefined> {
  try {
    return await acquireLock(connection, seedLockName(connection.database, config.table, shard), {
      timeoutSeconds: 0,
    });
  } catch (err) {
    if ((err as SparseVectorError).code !== 'LOCK_TIMEOUT') throw err;
    return undefined;
  }
}

/** A shard's presence lock (see shard-presence.ts), or undefined when a downgrade of the table is running. */
async function shardPresence(
  knex: Knex,
  connection: ConnectionConfig,
  config: SparseVectorConfig,
  index: number,
): Promise<HeldLock | undefined> {
  const downgradeLock = downgradeLockName(connection.database, config.table);
  return enterShard(connection, config.table, index, async () => {
    const [rows] = (await knex.raw('SELECT IS_FREE_LOCK(?) AS free', [downgradeLock])) as [Array<{ free: number }>];
    return Number(rows[0]?.free) === 1;
  });
}

/** The backfill's ledger record; an embedder recorded by a run that stored no vector is forgotten first. */
async function currentRecord(
  knex: Knex,
  ledger: SeedLedger,
  options: BackfillOptions,
  target: SparseTarget,
  fingerprint: string,
  reporter: BackfillReporter,
): Promise<SeedRecord | undefined> {
  const record = await ledger.get(knex, BACKFILL_SEEDER);
  if (options.dryRun || options.reembed) return record;
  // The database the run's locks are named after (runSeeder's connection).
  const { database } = requireConnection(options.config);
  const query = async (sql: string, values: unknown[]) =>
    ((await knex.raw(sql, values as Knex.RawBinding[])) as [Array<Record<string, number | null>>])[0];
  const caller = shardKey(options.shard) ? 'shard' : 'table';
  const otherRunActive = () =>
    otherBackfillRuns(query, database, target.table, seedLockName(database, target.table), caller);
  const say = (m: string) => reporter.message(m);
  return releaseEmptySpace({ knex, ledger, target, say, otherRunActive }, record, fingerprint);
}

/** --json consumers always get a final 'done' event, also when nothing ran. */
function skipped(reporter: BackfillReporter, result: SeederResult): SeederResult {
  reporter.skipped(result);
  return result;
}

/** Under the lock: check, consult the ledger, run the backfill, record its end (the decisions: seed-decisions.ts). */
async function seed(
  options: BackfillOptions,
  knex: Knex,
  reporter: BackfillReporter,
  shard: string,
): Promise<SeederResult> {
  const { config } = options;
  const ledger = new SeedLedger(config.seedsTable);
  // Everything that can be refused is refused before the ledger is created or changed.
  const embedder = options.embedder ?? createEmbedder(config.embedder);
  const schema = await checkBackfillTarget(knex, config);
  const fingerprint = canonicalFingerprint(fingerprintOf(embedder));
  const record = await currentRecord(knex, ledger, options, schema.target, fingerprint, reporter);
  const plan = startPlan({ options, record, fingerprint, shard, target: schema.target });
  if (plan.reembed) return runReembed({ options, knex, reporter, ledger, record, embedder, schema, to: fingerprint });
  for (const note of plan.notes) reporter.message(note);
  if (plan.probe) {
    // 'done' is a cache: one probe that stops at the first eligible row.
    const waiting = await hasEligibleRow(knex, schema.target);
    reporter.message(waiting ? plan.probe.waiting : plan.probe.done);
    if (!waiting) return skipped(reporter, { ...emptySummary(false), skippedReason: 'already-done' });
  }
  if (plan.interrupted) reporter.message(plan.interrupted);
  if (options.dryRun) return runBackfill({ ...options, embedder, knex, schema });
  // The embedder is checked again with the record locked, and recorded if none was.
  await ledger.start(knex, BACKFILL_SEEDER, {
    fingerprint,
    check: (r) => checkBackfillSpace(r, fingerprint, config, false),
  });
  // Unsharded: resume after the previous run's checkpoint and record this run's.
  const resume = resumeOf(ledger, record, config, shard);
  const where = { table: config.table, column: config.sparseColumn };
  const saver = shard ? undefined : new CheckpointSaver(knex, ledger, BACKFILL_SEEDER, where);
  let summary: BackfillSummary;
  try {
    summary = await runBackfill({ ...options, embedder, knex, schema, resume, onCheckpoint: saver?.offer });
    await saver?.settled();
  } catch (err) {
    await ledger.finish(knex, BACKFILL_SEEDER, failedRunEnd(record, err)).catch(() => undefined);
    throw err;
  }
  await ledger.finish(knex, BACKFILL_SEEDER, runEnd(config, shard, summary));
  return summary;
}

/** Throw when a seeder run did not complete (for callers that need an exception, e.g. knex seed:run). */
export function assertSeederSucceeded(r: SeederResult): void {
  if (r.error) throw r.error;
  if (r.failed)
    throw new SparseVectorError(
      'BACKFILL_FAILED',
      `${r.failed} rows could not be embedded; they stay NULL and the next run retries them.`,
    );
  if (r.stopped)
    throw new SparseVectorError(
      'BACKFILL_FAILED',
      'The backfill was stopped before the end; run it again to continue.',
    );
}
