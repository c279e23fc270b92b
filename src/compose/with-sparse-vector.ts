import type { Knex } from 'knex';
import { knexCommandFromArgv } from '../migrator/knexfile-config';
import { ComposedMigrationSource, ComposedSeedSource, type FsSettings } from './knex-sources';

type AnyConfig = Knex.Config & Record<string, unknown>;

export interface WithSparseVectorOptions {
  /** The knex CLI command being run (read from process.argv by default). */
  command?: string;
}

/**
 * The application's knex configuration, plus this package's migration and backfill seeder:
 *
 *   // knexfile.mjs
 *   export default withSparseVector({ client: 'mysql2', connection: process.env.DATABASE_URL, migrations: { directory: './migrations' } });
 *
 * `knex migrate:latest|rollback|status|up|down` then list the app's migrations exactly as knex would (its own
 * file source, directories, extensions and order) plus ours, in the app's ledger table; `knex seed:run` runs
 * the app's seeds, then our backfill. Accepts one configuration, a map of environments
 * ({ development: {...}, production: {...} }) or a function returning either (as a knexfile may export).
 * `migrate:make` and `seed:make` write into the app's own directories.
 */
export function withSparseVector<T extends object>(appConfig: T, options: WithSparseVectorOptions = {}): T {
  if (typeof appConfig === 'function') {
    return (async () => withSparseVector(await (appConfig as () => Promise<AnyConfig>)(), options)) as unknown as T;
  }
  if (isSingleConfig(appConfig)) return composeOne(appConfig as AnyConfig, options) as unknown as T;
  const composed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(appConfig)) {
    composed[name] =
      value && typeof value === 'object' && isSingleConfig(value as AnyConfig)
        ? composeOne(value as AnyConfig, options)
        : value;
  }
  return composed as T;
}

const CONFIG_KEYS = ['client', 'connection', 'migrations', 'seeds', 'pool', 'useNullAsDefault'];

function isSingleConfig(value: object): boolean {
  return CONFIG_KEYS.some((key) => key in value);
}

function composeOne(config: AnyConfig, options: WithSparseVectorOptions): AnyConfig {
  const command = options.command ?? knexCommandFromArgv();
  // Generators only need the app's directories: knex writes the new file there, never into node_modules.
  if (command === 'migrate:make') return config;
  const migrations = (config.migrations ?? {}) as Knex.MigratorConfig & FsSettings;
  const { directory, sortDirsSeparately, loadExtensions, migrationSource, ...migrationRest } = migrations;
  const seeds = (config.seeds ?? {}) as Knex.SeederConfig & FsSettings & { seedSource?: unknown };
  const {
    directory: seedDirectory,
    sortDirsSeparately: seedSort,
    loadExtensions: seedExtensions,
    seedSource,
    ...seedRest
  } = seeds;
  return {
    ...config,
    migrations: {
      ...migrationRest,
      migrationSource: new ComposedMigrationSource({
        directory,
        sortDirsSeparately,
        loadExtensions,
        migrationSource: migrationSource,
      }),
    },
    seeds: {
      ...seedRest,
      seedSource: new ComposedSeedSource({
        directory: seedDirectory,
        sortDirsSeparately: seedSort,
        loadExtensions: seedExtensions,
        seedSource: seedSource as never,
      }),
    } as Knex.SeederConfig,
  };
}
