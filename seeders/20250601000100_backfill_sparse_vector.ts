/**
 * Data seeder: backfill `sparse_embedding` for the rows that existed before the upgrade (and any other row
 * whose vector is NULL and whose text is not empty). Tracked in its own ledger (sparse_vector_seeds),
 * separate from the schema migrations; recorded as done only when no such row is left.
 *
 *   npx umzug seed [--workers 3 --batch-size 100 --delay 0.1 --dry-run --shard 0/3 --rerun ...]
 *   npx knex seed:run          (options from SPARSE_BACKFILL_* variables, see .env.example)
 *   backfillOnBoot({ background: true }) at application boot
 *
 * Resumable: the table is the state. After a stop or a crash, run it again: the rows still NULL are done.
 * See docs/backfill.md.
 */
import type { Knex } from 'knex';
import { assertSeederSucceeded, backfillOptionsFromEnv, runSeeder } from '../src/backfill';
import { migrationConfig, migrationLogger } from '../src/migrator/context';

export async function seed(knex: Knex): Promise<void> {
  // The run opens its own pool (workers + 3 connections) from the same configuration as `knex`.
  const result = await runSeeder({
    ...backfillOptionsFromEnv(),
    config: await migrationConfig(knex),
    logger: migrationLogger(knex),
  });
  assertSeederSucceeded(result);
}
