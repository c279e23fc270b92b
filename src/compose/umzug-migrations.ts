import type { Knex } from 'knex';
import type { RunnableMigration } from 'umzug';
import { requireConnection, resolveConfig, type SparseVectorOptions } from '../config/config';
import { checkConnection, createKnex } from '../db/knex';
import { userParamsFor } from '../migrator/context';
import { listScriptFiles, loadMigrationModule, MIGRATIONS_DIR, type ScriptFile } from '../migrator/migration-files';
import { createConsoleLogger, type Logger } from '../util/logger';
import { connectionOfKnex, isKnex } from './knex-connection';

export interface SparseVectorMigrationsOptions extends SparseVectorOptions {
  /** The knex instance to run on. Default: the Umzug context when it is a knex instance, else our own connection. */
  knex?: Knex;
  logger?: Logger;
}

/**
 * This package's schema migrations as Umzug migrations (name, up, down), for an application's own Umzug:
 *
 *   new Umzug({ migrations: async (ctx) => [...(await own.migrations(ctx)), ...sparseVectorMigrations()], storage, context })
 *
 * The names are the ledger keys our other routes write (e.g. 20250601000000_add_sparse_vector). Each step
 * takes our advisory lock and is idempotent, so the application's ledger and ours cannot disagree harmfully:
 * a step already done elsewhere finds its work done. The migrations carry no `path`, so `umzug create` never
 * infers a folder inside node_modules (give Umzug `create: { folder }`).
 */
export function sparseVectorMigrations(options: SparseVectorMigrationsOptions = {}): RunnableMigration<unknown>[] {
  return listScriptFiles(MIGRATIONS_DIR).map((file) => ({
    name: file.name,
    up: ({ context }) => runStep(file, 'up', context, options),
    down: ({ context }) => runStep(file, 'down', context, options),
  }));
}

async function runStep(
  file: ScriptFile,
  direction: 'up' | 'down',
  context: unknown,
  options: SparseVectorMigrationsOptions,
): Promise<void> {
  const { knex: given, logger = createConsoleLogger(), ...settings } = options;
  const appKnex = given ?? (isKnex(context) ? context : undefined);
  const explicit = settings.databaseUrl || settings.connection;
  const config = resolveConfig(
    appKnex && !explicit ? { ...settings, connection: connectionOfKnex(appKnex) } : settings,
  );
  const connection = requireConnection(config);
  const knex = appKnex ?? createKnex(connection, { pool: 2 });
  try {
    if (!appKnex) await checkConnection(knex, connection);
    // No assertLockHeld: the migration takes our lock around its own DDL.
    const params = { ...(knex.userParams ?? {}), ...userParamsFor(config, logger) };
    await loadMigrationModule(file.path)[direction](knex.withUserParams(params));
  } finally {
    if (!appKnex) await knex.destroy();
  }
}
