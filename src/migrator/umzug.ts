import type { Knex } from 'knex';
import { Umzug } from 'umzug';
import type { SparseVectorConfig } from '../config/config';
import { requireConnection } from '../config/config';
import { discoverTable, discoveryNote } from '../config/table-discovery';
import { checkConnection, createKnex } from '../db/knex';
import { acquireLock, lockName, type HeldLock } from '../db/lock';
import { createConsoleLogger, type Logger } from '../util/logger';
import { userParamsFor } from './context';
import { KnexLedgerStorage } from './ledger';
import { listScriptFiles, loadMigrationModule, MIGRATIONS_DIR } from './migration-files';

export interface SparseMigratorOptions {
  config: SparseVectorConfig;
  logger?: Logger;
  /** Use this knex instance instead of opening one (it is then not destroyed by close()). */
  knex?: Knex;
  /** Directory of migration files (defaults to the package's own migrations/). */
  migrationsDir?: string;
}

/** Umzug over the package's migrations (its CLI actions are used by cli/umzug-cli.ts). */
export class SparseUmzug extends Umzug<Knex> {}

export interface SparseMigrator {
  umzug: SparseUmzug;
  storage: KnexLedgerStorage;
  /** The knex instance migrations run with (opened on first use). */
  knex(): Promise<Knex>;
  /** The configuration with the memories table found on the server (see discoverTable). */
  config(): Promise<SparseVectorConfig>;
  close(): Promise<void>;
}

/** Commands that change the schema take the advisory lock; listing commands do not. */
const LOCKED_COMMANDS = new Set(['up', 'down']);

/**
 * An Umzug instance over the package's migrations, with the knex-format ledger as storage and, around
 * every `up`/`down`, the cross-process advisory lock. Umzug reads what is pending inside the command,
 * that is after the lock is held, so a run that waited sees what the previous holder applied.
 */
export function createSparseMigrator(options: SparseMigratorOptions): SparseMigrator {
  const logger = options.logger ?? createConsoleLogger();
  let config = options.config;
  const storage = new KnexLedgerStorage(config.migrationsTable);
  let knexPromise: Promise<Knex> | undefined;
  let lock: HeldLock | undefined;
  let discovered = false;

  const assertLockHeld = async (): Promise<void> => lock?.assertHeld();
  const getKnex = (): Promise<Knex> => {
    knexPromise ??= (async () => {
      const connection = requireConnection(config);
      const k = options.knex ?? createKnex(connection, { userParams: {} });
      await checkConnection(k, connection);
      // The table (and the ledger named after it) is known before Umzug reads the ledger or takes the lock.
      // Said by the commands that change the schema (listings stay machine-readable).
      discovered = !!config.tableDiscovery;
      config = await discoverTable(k, config);
      storage.tableName = config.migrationsTable;
      // A copy that shares the pool: the application's own instance (options.knex) is never written to.
      return k.withUserParams({ ...k.userParams, ...userParamsFor(config, logger, assertLockHeld) });
    })();
    return knexPromise;
  };

  const umzug = new SparseUmzug({
    migrations: () => migrationsIn(options.migrationsDir ?? MIGRATIONS_DIR),
    context: getKnex,
    storage,
    logger: umzugLogger(logger),
  });

  umzug.on('beforeCommand', async ({ command, context }) => {
    if (!LOCKED_COMMANDS.has(command)) return;
    if (discovered) logger.info(discoveryNote(config.table));
    lock = await takeMigrationLock(config, logger);
    storage.startRun(assertLockHeld);
    if (await storage.clearStaleKnexLock(context))
      logger.info(`Cleared a stale knex migration lock left by a crashed run`);
  });
  umzug.on('afterCommand', async () => {
    const held = lock;
    lock = undefined;
    await held?.release();
  });

  return {
    umzug,
    storage,
    knex: getKnex,
    config: async () => (await getKnex(), config),
    close: async () => {
      await lock?.release();
      if (knexPromise && !options.knex) await (await knexPromise.catch(() => undefined))?.destroy();
      knexPromise = undefined;
    },
  };
}

/** The table's migration lock, waiting up to the lock timeout (and saying so) for another run's. */
function takeMigrationLock(config: SparseVectorConfig, logger: Logger): Promise<HeldLock> {
  const connection = requireConnection(config);
  return acquireLock(connection, lockName('migrate', connection.database, config.table), {
    timeoutSeconds: config.lockTimeoutSeconds,
    onWait: (holder) =>
      logger.info(`Waiting for another migration run (connection ${holder ?? '?'}) to release the lock...`),
  });
}

/** The migration files of `dir` as Umzug migrations (each module is loaded when it runs). */
function migrationsIn(dir: string) {
  return listScriptFiles(dir).map((f) => ({
    name: f.name,
    path: f.path,
    up: async ({ context }: { context: Knex }) => loadMigrationModule(f.path).up(context),
    down: async ({ context }: { context: Knex }) => loadMigrationModule(f.path).down(context),
  }));
}

/** Umzug's structured log events, as lines of the package's logger (Umzug errors are reported by the caller). */
function umzugLogger(logger: Logger) {
  return {
    info: (m: Record<string, unknown>) => logger.info(formatUmzugEvent(m)),
    warn: (m: Record<string, unknown>) => logger.warn(formatUmzugEvent(m)),
    error: (m: Record<string, unknown>) => logger.warn(formatUmzugEvent(m)),
    debug: (m: Record<string, unknown>) => logger.debug(formatUmzugEvent(m)),
  };
}

function formatUmzugEvent(m: Record<string, unknown>): string {
  const event = text(m.event);
  const name = m.name ? ` ${text(m.name)}` : '';
  const took = typeof m.durationSeconds === 'number' ? ` (${m.durationSeconds.toFixed(2)}s)` : '';
  const message = m.message ? ` ${text(m.message)}` : '';
  return `== ${event}${name}${took}${message}`;
}

/** A log field as text: strings and numbers as they are, anything else as JSON. */
function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);
}
