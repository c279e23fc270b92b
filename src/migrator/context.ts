import type { Knex } from 'knex';
import { configFromEnv, requireConnection, resolveConfig, type SparseVectorConfig } from '../config/config';
import { loadDotenv } from '../config/load-env';
import { discoverTable } from '../config/table-discovery';
import { withLock, lockName } from '../db/lock';
import { connectionOfKnex } from '../compose/knex-connection';
import { createConsoleLogger, type Logger } from '../util/logger';

/**
 * Migration files receive a knex instance from every entry point (Umzug, knex CLI, boot API, and the
 * application's own knex or Umzug). Our factories put the resolved configuration and logger in knex's
 * `userParams`; a knex instance built by the application (withSparseVector) has none: the settings then
 * come from .env / process.env, and the database is the one that knex instance talks to.
 */
export interface SparseUserParams {
  sparseVector?: SparseVectorConfig;
  logger?: Logger;
  /**
   * Throws when the run's advisory lock was lost (see HeldLock.assertHeld). Set by the entry points that
   * hold our lock around the whole run; without it a migration takes the lock itself.
   */
  assertLockHeld?: () => Promise<void>;
}

export function userParamsFor(
  config: SparseVectorConfig,
  logger?: Logger,
  assertLockHeld?: () => Promise<void>,
): SparseUserParams {
  return { sparseVector: config, logger, assertLockHeld };
}

function paramsOf(knex: Knex): SparseUserParams {
  return (knex.userParams ?? {}) as SparseUserParams;
}

/**
 * Called by a migration after its DDL, just before the tool writes the ledger: a run whose lock connection
 * died must not record anything, since another run may hold the lock by now.
 */
export async function assertMigrationLock(knex: Knex): Promise<void> {
  await paramsOf(knex).assertLockHeld?.();
}

export async function migrationConfig(knex: Knex): Promise<SparseVectorConfig> {
  const params = paramsOf(knex);
  if (params.sparseVector) return discoverTable(knex, params.sparseVector, migrationLogger(knex));
  loadDotenv();
  // The application's own knex (withSparseVector): the database is the one that knex talks to.
  const connection = connectionOfKnex(knex);
  return discoverTable(knex, connection ? resolveConfig({ connection }) : configFromEnv(), migrationLogger(knex));
}

export function migrationLogger(knex: Knex): Logger {
  return paramsOf(knex).logger ?? createConsoleLogger();
}

/**
 * Run one migration step. Entry points that hold our advisory lock for the whole run say so in userParams;
 * otherwise (the application's own knex or Umzug) the step takes the lock itself, so that it never runs at
 * the same time as another run of ours on the same table, whichever ledger each one writes.
 */
export async function runLockedStep(
  knex: Knex,
  step: (config: SparseVectorConfig, logger: Logger) => Promise<unknown>,
): Promise<void> {
  const config = await migrationConfig(knex);
  const logger = migrationLogger(knex);
  if (paramsOf(knex).assertLockHeld) {
    await step(config, logger);
    await assertMigrationLock(knex); // the tool writes the ledger next: only while the lock is still ours
    return;
  }
  const connection = requireConnection(config);
  await withLock(
    connection,
    lockName('migrate', connection.database, config.table),
    {
      timeoutSeconds: config.lockTimeoutSeconds,
      onWait: (holder) =>
        logger.info(`Waiting for another migration run (connection ${holder ?? '?'}) to release the lock...`),
    },
    () => step(config, logger),
  );
}
