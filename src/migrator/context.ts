import type { Knex } from 'knex';
import { configFromEnv, type SparseVectorConfig } from '../config/config';
import { loadDotenv } from '../config/load-env';
import { discoverTable } from '../config/table-discovery';
import { createConsoleLogger, type Logger } from '../util/logger';

/**
 * Migration files receive a knex instance from every entry point (Umzug, knex CLI, boot API).
 * Our factories put the resolved configuration and logger in knex's `userParams`; a knex instance built
 * by someone else (an application's own knexfile) falls back to .env / process.env.
 */
export interface SparseUserParams {
  sparseVector?: SparseVectorConfig;
  logger?: Logger;
  /** Throws when the run's advisory lock was lost (see HeldLock.assertHeld); absent when no lock is held. */
  assertLockHeld?: () => Promise<void>;
}

export function userParamsFor(
  config: SparseVectorConfig,
  logger?: Logger,
  assertLockHeld?: () => Promise<void>,
): SparseUserParams {
  return { sparseVector: config, logger, assertLockHeld };
}

/**
 * Called by a migration after its DDL, just before the tool writes the ledger: a run whose lock connection
 * died must not record anything, since another run may hold the lock by now.
 */
export async function assertMigrationLock(knex: Knex): Promise<void> {
  await ((knex.userParams ?? {}) as SparseUserParams).assertLockHeld?.();
}

export async function migrationConfig(knex: Knex): Promise<SparseVectorConfig> {
  const params = (knex.userParams ?? {}) as SparseUserParams;
  if (params.sparseVector) return discoverTable(knex, params.sparseVector, migrationLogger(knex));
  loadDotenv();
  return discoverTable(knex, configFromEnv(), migrationLogger(knex));
}

export function migrationLogger(knex: Knex): Logger {
  return ((knex.userParams ?? {}) as SparseUserParams).logger ?? createConsoleLogger();
}
