import type { Knex } from 'knex';
import { configFromEnv, type SparseVectorConfig } from '../config/config';
import { loadDotenv } from '../config/load-env';
import { createConsoleLogger, type Logger } from '../util/logger';

/**
 * Migration files receive a knex instance from every entry point (Umzug, knex CLI, boot API).
 * Our factories put the resolved configuration and logger in knex's `userParams`; a knex instance built
 * by someone else (an application's own knexfile) falls back to .env / process.env.
 */
export interface SparseUserParams {
  sparseVector?: SparseVectorConfig;
  logger?: Logger;
}

export function userParamsFor(config: SparseVectorConfig, logger?: Logger): SparseUserParams {
  return { sparseVector: config, logger };
}

export function migrationConfig(knex: Knex): SparseVectorConfig {
  const params = (knex.userParams ?? {}) as SparseUserParams;
  if (params.sparseVector) return params.sparseVector;
  loadDotenv();
  return configFromEnv();
}

export function migrationLogger(knex: Knex): Logger {
  return ((knex.userParams ?? {}) as SparseUserParams).logger ?? createConsoleLogger();
}
