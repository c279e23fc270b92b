/**
 * Add sparse-vector support to the memories table: the `sparse_embedding` column and the
 * `sparse_embedding_idx` index (native on OceanBase >= 4.5.0 / seekdb, JSON in portable mode).
 *
 * The same file runs through `npx umzug`, `npx knex migrate:*`, the boot API and an application's own knex
 * (withSparseVector) or Umzug (sparseVectorMigrations); each passes a knex instance. Both directions are
 * idempotent and complete a half-done state: MySQL-family DDL commits implicitly, and Umzug/knex write the
 * ledger only after `up` returns, so a crash in between re-runs this migration.
 */
import type { Knex } from 'knex';
import { withBackfillExcluded } from '../src/backfill/schema-guard';
import { runLockedStep } from '../src/migrator/context';
import { downgradeSparseSchema, openSchemaContext, upgradeSparseSchema } from '../src/schema/sparse-schema';

/** DDL cannot run inside a transaction on these servers. */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await runLockedStep(knex, async (settings, logger) =>
    upgradeSparseSchema(await openSchemaContext(knex, settings), logger),
  );
}

/**
 * Removing the column deletes every vector: under the table's backfill lock (a running backfill is waited
 * for, up to SPARSE_LOCK_TIMEOUT), the seeds ledger stops calling the backfill done, then the column goes.
 */
export async function down(knex: Knex): Promise<void> {
  await runLockedStep(knex, async (settings, logger) => {
    const ctx = await openSchemaContext(knex, settings);
    await withBackfillExcluded(knex, settings, logger, () => downgradeSparseSchema(ctx, logger));
  });
}
