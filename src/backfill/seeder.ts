import type { Knex } from 'knex';
import { requireConnection } from '../config/config';
import { checkConnection, createKnex } from '../db/knex';
import { acquireLock, lockName, type HeldLock } from '../db/lock';
import { SvmError } from '../errors';
import { targetOf } from '../schema/sparse-schema';
import { redact } from '../util/redact';
import { runBackfill, type BackfillSummary } from './engine';
import type { BackfillOptions } from './options';
import { countEligible } from './reader';
import { SeedLedger } from './seed-ledger';

/** The backfill's name in the seeds ledger (the file in seeders/, without extension). */
export const BACKFILL_SEEDER = '20250601000100_backfill_sparse_vector';

export interface SeederResult extends BackfillSummary {
  /** Why nothing ran: the ledger says done, or another run holds this shard's lock. */
  skippedReason?: 'already-done' | 'busy';
}

/**
 * The backfill as a tracked data seeder: a per-shard lock keeps two identical runs apart (a second one
 * returns at once with skippedReason 'busy'); the seeds ledger records each run and marks the seeder done
 * only when no eligible NULL row remains in the whole table. Once done, a run does nothing unless `rerun`
 * is set, which processes rows that became NULL later.
 */
export async function runSeeder(options: BackfillOptions & { knex?: Knex }): Promise<SeederResult> {
  const { config } = options;
  const connection = requireConnection(config);
  const knex = options.knex ?? createKnex(connection, { pool: (options.workers ?? 1) + 2 });
  const ledger = new SeedLedger(config.seedsTable);
  const out = options.out ?? process.stdout;
  const say = (line: string) => options.progress !== 'json' && options.progress !== 'none' && out.write(redact(line) + '\n');
  let lock: HeldLock | undefined;
  try {
    await checkConnection(knex, connection);
    const shard = options.shard ? `:${options.shard.index}/${options.shard.count}` : '';
    try {
      lock = await acquireLock(connection, lockName('seed', connection.database, config.table + shard), { timeoutSeconds: 0 });
    } catch (err) {
      if ((err as SvmError).code !== 'LOCK_TIMEOUT') throw err;
      say(`Another backfill run is already working on table '${config.table}'${shard ? ` (shard ${shard.slice(1)})` : ''}; nothing to do here.`);
      return { ...emptySummary(!!options.dryRun), skippedReason: 'busy' };
    }
    const record = await ledger.get(knex, BACKFILL_SEEDER);
    if (record?.status === 'done' && !options.rerun && !options.dryRun) {
      const left = await countEligible(knex, targetOf(config)).catch(() => 0);
      say(`Seeder ${BACKFILL_SEEDER} is already done${left ? `; ${left} rows became NULL since: run again with --rerun to embed them` : ': nothing to do'}.`);
      return { ...emptySummary(false), remaining: left, skippedReason: 'already-done' };
    }
    if (!options.dryRun) await ledger.start(knex, BACKFILL_SEEDER);
    let summary: BackfillSummary;
    try {
      summary = await runBackfill({ ...options, knex });
    } catch (err) {
      if (!options.dryRun) await ledger.finish(knex, BACKFILL_SEEDER, { status: 'incomplete', migrated: 0, failed: 0, error: redact((err as Error).message) }).catch(() => undefined);
      throw err;
    }
    if (!options.dryRun) {
      const leftInTable = options.shard ? await countEligible(knex, targetOf(config)) : summary.remaining;
      await ledger.finish(knex, BACKFILL_SEEDER, {
        status: leftInTable === 0 && !summary.error ? 'done' : 'incomplete',
        migrated: summary.migrated,
        failed: summary.failed,
        error: summary.error ? redact(summary.error.message) : undefined,
      });
    }
    return summary;
  } finally {
    await lock?.release();
    if (!options.knex) await knex.destroy();
  }
}

function emptySummary(dryRun: boolean): BackfillSummary {
  return { ok: true, dryRun, stopped: false, total: 0, migrated: 0, failed: 0, skipped: 0, failures: [], workers: [], elapsedMs: 0, recordsPerSecond: 0, remaining: 0 };
}

/** Throw when a seeder run did not complete (used where the caller needs an exception, e.g. knex seed:run). */
export function assertSeederSucceeded(r: SeederResult): void {
  if (r.error) throw r.error;
  if (r.failed) throw new SvmError('BACKFILL_FAILED', `${r.failed} rows could not be embedded; they stay NULL and the next run retries them.`);
  if (r.stopped) throw new SvmError('BACKFILL_FAILED', 'The backfill was stopped before the end; run it again to continue.');
}
