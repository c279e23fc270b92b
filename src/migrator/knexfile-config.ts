import type { Knex } from 'knex';
import { requireConnection, resolveConfig, type SparseVectorOptions } from '../config/config';
import { loadDotenv } from '../config/load-env';
import { discoverTable } from '../config/table-discovery';
import { checkConnection, createKnex, mysql2Options, type KnexConfigWithUserParams } from '../db/knex';
import { acquireLock, lockName } from '../db/lock';
import { createConsoleLogger, type Logger } from '../util/logger';
import { userParamsFor } from './context';
import { refuseGenerator } from './generators';
import { KnexLedgerStorage } from './ledger';
import {
  listScriptFiles,
  loadMigrationModule,
  MIGRATIONS_DIR,
  SCRIPT_EXTENSION,
  SEEDERS_DIR,
  type ScriptFile,
} from './migration-files';

/**
 * knex's migration source for the package's migrations: names without extension (the same ledger keys
 * Umzug writes), files from migrations/ as .ts (through a TS loader) or compiled .js.
 */
export class SparseMigrationSource implements Knex.MigrationSource<KnexMigrationFile> {
  constructor(private readonly dir = MIGRATIONS_DIR) {}

  async getMigrations(): Promise<KnexMigrationFile[]> {
    // knex's CLI prints `file` when it lists pending migrations.
    return listScriptFiles(this.dir).map((f) => ({ ...f, file: f.name }));
  }

  getMigrationName(m: KnexMigrationFile): string {
    return m.name;
  }

  async getMigration(m: KnexMigrationFile): Promise<Knex.Migration> {
    return loadMigrationModule(m.path);
  }
}

type KnexMigrationFile = ScriptFile & { file: string };

/** knex CLI commands that change the schema: they run under our advisory lock. */
const LOCKED = new Set(['migrate:latest', 'migrate:up', 'migrate:down', 'migrate:rollback']);

export function knexCommandFromArgv(argv: readonly string[] = process.argv): string | undefined {
  return argv.find((a) => /^(migrate|seed):[a-zA-Z]+$/.test(a));
}

export interface KnexfileOptions extends SparseVectorOptions {
  logger?: Logger;
  /** The knex CLI command being run (read from process.argv by default). */
  command?: string;
}

/**
 * The configuration `knexfile.ts` exports (knex's CLI awaits a function export). For the schema-changing
 * commands it first takes the same advisory lock as Umzug and the boot API, on a connection held until the
 * process exits (knex's CLI ends with process.exit), so concurrent runs wait instead of failing on knex's
 * lock table; holding it, it also clears a knex lock row left set by a crashed run.
 */
export async function createKnexfileConfig(options: KnexfileOptions = {}): Promise<KnexConfigWithUserParams> {
  const command = options.command ?? knexCommandFromArgv();
  if (command === 'migrate:make' || command === 'seed:make') throw refuseGenerator(`knex ${command}`);
  loadDotenv();
  let config = resolveConfig(options);
  const connection = requireConnection(config);
  const logger = options.logger ?? createConsoleLogger();
  for (const notice of config.notices) logger.warn(notice);
  if (config.tableDiscovery) {
    // The ledger's name follows the memories table: find it before knex reads the ledger.
    const probe = createKnex(connection, { pool: 1 });
    try {
      await checkConnection(probe, connection);
      config = await discoverTable(probe, config, logger);
    } finally {
      await probe.destroy();
    }
  }
  let assertLockHeld: (() => Promise<void>) | undefined;
  if (command && LOCKED.has(command)) {
    const lock = await acquireLock(connection, lockName('migrate', connection.database, config.table), {
      timeoutSeconds: config.lockTimeoutSeconds,
      onWait: (holder) =>
        logger.info(`Waiting for another migration run (connection ${holder ?? '?'}) to release the lock...`),
    });
    assertLockHeld = () => lock.assertHeld();
    const k = createKnex(connection, { pool: 1 });
    try {
      if (await new KnexLedgerStorage(config.migrationsTable).clearStaleKnexLock(k)) {
        logger.info('Cleared a stale knex migration lock left by a crashed run');
      }
    } finally {
      await k.destroy();
    }
  }
  return {
    client: 'mysql2',
    connection: mysql2Options(connection),
    pool: { min: 0, max: 4 },
    userParams: { ...userParamsFor(config, logger, assertLockHeld) },
    migrations: {
      tableName: config.migrationsTable,
      migrationSource: new SparseMigrationSource(),
      // DDL commits implicitly on these servers; a transaction would only hide that.
      disableTransactions: true,
    },
    seeds: {
      directory: SEEDERS_DIR,
      loadExtensions: [SCRIPT_EXTENSION],
    },
  };
}
