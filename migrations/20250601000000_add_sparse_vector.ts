/**
 * Add sparse-vector support to the memories table: the `sparse_embedding` column and the
 * `sparse_embedding_idx` index (native on OceanBase >= 4.5.0 / seekdb, JSON in portable mode).
 *
 * The same file runs through `npx umzug`, `npx knex migrate:*` and the boot API; each passes a knex instance.
 * Both directions are idempotent and complete a half-done state: MySQL-family DDL commits implicitly, and
 * Umzug/knex write the ledger only after `up` returns, so a crash in between re-runs this migration.
 */
import type { Knex } from 'knex';
import { withBackfillExcluded } from '../src/backfill/schema-guard';
import { assertMigrationLock, migrationConfig, migrationLogger } from '../src/migrator/context';
import { downgradeSparseSchema, openSchemaContext, upgradeSparseSchema } from '../src/schema/sparse-schema';

/** DDL cannot run inside a transaction on these servers. */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  const ctx = await openSchemaContext(knex, await migrationConfig(knex));
  await upgradeSparseSchema(ctx, migrationLogger(knex));
  await assertMigrationLock(knex); // the tool writes the ledger next: only while the lock is still ours
}

/**
 * Removing the column deletes every vector: under the table's backfill lock (a running backfill is waited
 * for, up to SPARSE_LOCK_TIMEOUT), the seeds ledger stops calling the backfill done, then the column goes.
 */
export async function down(knex: Knex): Promise<void> {
  const config = await migrationConfig(knex);
  const log = migrationLogger(knex);
  const ctx = await openSchemaContext(knex, config);
  await withBackfillExcluded(knex, config, log, () => downgradeSparseSchema(ctx, log));
  await assertMigrationLock(knex);
}
