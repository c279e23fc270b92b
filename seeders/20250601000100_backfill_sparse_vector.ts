/**
 * Data seeder: backfill `sparse_embedding` for the rows that existed before the upgrade.
 * Tracked in its own ledger (sparse_vector_seeds), separate from the schema migrations.
 *
 *   npx umzug seed [--workers 3 --batch-size 100 --delay 0.1 --dry-run --shard 0/3 --rerun]
 *   npx knex seed:run                  (options from SPARSE_BACKFILL_* variables)
 *   backfillOnBoot({ background: true }) at application boot
 */
import type { Knex } from 'knex';
import { assertSeederSucceeded, backfillOptionsFromEnv, runSeeder } from '../src/backfill';
import { migrationConfig, migrationLogger } from '../src/migrator/context';

export async function seed(knex: Knex): Promise<void> {
  const result = await runSeeder({ ...backfillOptionsFromEnv(), config: migrationConfig(knex), logger: migrationLogger(knex), knex });
  assertSeederSucceeded(result);
}
