import { SparseVectorError } from '../errors';
import { loadDotenv } from './load-env';
import { perTableName, validateDatabaseName } from '../identifiers';
import { embedderConfigFromEnv, embedderConfigFromObject } from '../embedders/config';
import type { EmbedderConfig } from '../embedders/types';
import { registerSecret } from '../util/redact';
import {
  connectionFromVectorStore,
  parseDatabaseUrl,
  vectorStoreHost,
  type ConnectionConfig,
} from './connection-config';
import { connectionFromEnv } from './connection-env';
import { detectEmbeddedSeekdb, embeddedSeekdbError, type EmbeddedSeekdb } from './embedded-seekdb';
import { insideSourceRepository } from '../util/repository';
import {
  envNames,
  envText,
  identifierFromEnv,
  identifierSetting,
  settingFromApi,
  settingFromEnv,
} from '../options/settings';
import { CONNECTION, SETTINGS, TARGET } from '../options/table';
import { GUIDE_TABLE, MYSQL_PORT } from '../options/table-connection';

export type SparseStorage = 'native' | 'json';

/** The resolved, validated configuration every entry point works from. */
export interface SparseVectorConfig {
  /** Undefined means "not configured": entry points that may start the local default server do so. */
  connection?: ConnectionConfig;
  /**
   * The memories table (OCEANBASE_COLLECTION). Unset: the one of powermem's default tables (powermem 1.1.x's
   * and older powermem's, the option table's POWERMEM_DEFAULT_TABLES) found on the server (see tableDiscovery).
   */
  table: string;
  /**
   * Set when no table was configured: `table` is a placeholder until discoverTable() (config/table-discovery.ts)
   * has looked on the server. Says which ledger names were derived from the table name (they follow it).
   */
  tableDiscovery?: { migrationsTableDerived: boolean; seedsTableDerived: boolean };
  /** Set when the configuration is powermem's embedded seekdb (no server): every database entry point refuses it. */
  embeddedSeekdb?: EmbeddedSeekdb;
  /** Primary key column (BIGINT in powermem's table). */
  idColumn: string;
  /** The text to embed (OCEANBASE_TEXT_FIELD; its default is in the option table). */
  textColumn: string;
  /** Sparse vector column and index names. */
  sparseColumn: string;
  sparseIndex: string;
  /**
   * OCEANBASE_INCLUDE_SPARSE, else SPARSE_VECTOR_ENABLE (powermem's order: the first one set wins; default true
   * here, false in powermem): false makes the boot API a no-op.
   */
  enabled: boolean;
  /** native = SPARSEVECTOR + vector index (OceanBase >= 4.5.0, seekdb); json = portable mode (any MySQL-family server). */
  storage: SparseStorage;
  /** Override for the WITH (...) clause of the sparse vector index, e.g. "distance=inner_product,type=sindi,lib=vsag". */
  indexParams?: string;
  /** Ledger tables. */
  migrationsTable: string;
  seedsTable: string;
  /** How long a run waits for another run's lock before giving up. */
  lockTimeoutSeconds: number;
  embedder: EmbedderConfig;
  /** What the CLIs should tell the reader about the settings (e.g. an ignored DATABASE_URL). */
  notices: readonly string[];
}

export type Env = Record<string, string | undefined>;

/** Object form accepted by resolveConfig: camelCase keys, plus the powermem guide's sparse_embedder / vector_store shape. */
export interface SparseVectorOptions {
  databaseUrl?: string;
  connection?: Partial<ConnectionConfig>;
  table?: string;
  idColumn?: string;
  textColumn?: string;
  enabled?: boolean;
  storage?: SparseStorage;
  indexParams?: string;
  migrationsTable?: string;
  seedsTable?: string;
  lockTimeoutSeconds?: number;
  embedder?: Partial<EmbedderConfig>;
  /** powermem's dictionary configuration. */
  sparse_embedder?: { provider?: string; config?: Record<string, unknown> };
  vector_store?: { provider?: string; config?: Record<string, unknown> };
}

const INDEX_PARAMS = /^\s*[a-z_]+\s*=\s*[A-Za-z0-9_.]+\s*(,\s*[a-z_]+\s*=\s*[A-Za-z0-9_.]+\s*)*$/;

type LedgerBase = typeof TARGET.migrationsTable.default | typeof TARGET.seedsTable.default;

/**
 * The default ledger table of a memories table: each table has its own ledgers, so that a second collection
 * in the same database is upgraded and backfilled on its own. The guide's table `memories` keeps the plain
 * names (the option table's defaults: sparse_vector_migrations, sparse_vector_seeds); another table gets its name appended
 * (sparse_vector_migrations_notes), or a hash of it when that would not leave room for knex's `_lock` table
 * within MySQL's 64 characters.
 */
export function ledgerTableFor(base: LedgerBase, table: string): string {
  return perTableName(base, table);
}

/**
 * powermem's words for "sparse vectors on" (storage/config/oceanbase.py, include_sparse's aliases), in its
 * order: the first one set wins (the option table's variable, then its alias).
 */
export const ENABLE_WORDS = envNames(TARGET.enabled);

const { migrationsTable: MIGRATIONS, seedsTable: SEEDS } = TARGET;

/** Read configuration from environment variables (process.env after dotenv, or a given map). */
export function configFromEnv(env: Env = process.env, options: { connection?: boolean } = {}): SparseVectorConfig {
  // resolveConfig passes connection: false when the caller gives the connection itself.
  const { connection, notices } =
    options.connection === false ? { connection: undefined, notices: [] } : connectionFromEnv(env);
  const configuredTable = envText(TARGET.table, env);
  // Until discoverTable() looks on the server, the guide's table (what a caller that skips discovery gets).
  const table = identifierFromEnv(TARGET.table, env, GUIDE_TABLE);
  return finish({
    connection,
    embeddedSeekdb: connection ? undefined : detectEmbeddedSeekdb(env),
    table,
    tableDiscovery: configuredTable
      ? undefined
      : { migrationsTableDerived: !envText(MIGRATIONS, env), seedsTableDerived: !envText(SEEDS, env) },
    idColumn: identifierFromEnv(TARGET.idColumn, env),
    textColumn: identifierFromEnv(TARGET.textColumn, env),
    sparseColumn: 'sparse_embedding',
    sparseIndex: 'sparse_embedding_idx',
    enabled: settingFromEnv(TARGET.enabled, env),
    storage: settingFromEnv(SETTINGS.storage, env),
    indexParams: envText(TARGET.indexParams, env),
    migrationsTable: identifierFromEnv(MIGRATIONS, env, ledgerTableFor(MIGRATIONS.default, table)),
    seedsTable: identifierFromEnv(SEEDS, env, ledgerTableFor(SEEDS.default, table)),
    lockTimeoutSeconds: settingFromEnv(SETTINGS.lockTimeoutSeconds, env),
    embedder: embedderConfigFromEnv(env),
    notices,
  });
}

/** The connection: databaseUrl, then a connection object, then powermem's vector_store.config, then the environment. */
function connectionOf(
  options: SparseVectorOptions,
  vs: NonNullable<NonNullable<SparseVectorOptions['vector_store']>['config']>,
  fromEnv: ConnectionConfig | undefined,
): ConnectionConfig | undefined {
  if (options.databaseUrl) return parseDatabaseUrl(options.databaseUrl, 'databaseUrl');
  else if (options.connection) {
    const c = options.connection;
    if (!c.host || !c.database) {
      throw new SparseVectorError('CONFIG_INVALID', 'connection needs at least host and database.', {
        hint: 'Pass { connection: { host, port, user, password, database } } or databaseUrl.',
      });
    }
    registerSecret(c.password);
    return {
      host: c.host,
      port: c.port ?? MYSQL_PORT,
      user: c.user ?? CONNECTION.user.default,
      password: c.password ?? '',
      database: c.database,
      ...(c.ssl ? { ssl: c.ssl } : {}),
    };
  }
  return connectionFromVectorStore(vs) ?? fromEnv;
}

/**
 * Resolve a configuration object. Values it leaves out come from `env`; by default that is process.env
 * after loading `.env` from the working directory (variables already set win), so
 * `resolveConfig({ table: 'notes' })` still finds DATABASE_URL in .env.
 */
export function resolveConfig(options: SparseVectorOptions = {}, env: Env = process.env): SparseVectorConfig {
  if (env === process.env) loadDotenv();
  const vs = options.vector_store?.config ?? {};
  const base = configFromEnv(env, {
    connection: !(options.databaseUrl || options.connection || vectorStoreHost(vs) !== undefined),
  });
  const connection = connectionOf(options, vs, base.connection);
  const embedder = options.sparse_embedder
    ? embedderConfigFromObject({ sparse_embedder: options.sparse_embedder })
    : options.embedder
      ? embedderConfigFromObject({ ...base.embedder, ...options.embedder })
      : base.embedder;
  const configuredTable = options.table ?? (typeof vs.collection_name === 'string' ? vs.collection_name : undefined);
  const table = configuredTable ?? base.table;
  const migrationsTableDerived = options.migrationsTable === undefined && !envText(MIGRATIONS, env);
  const seedsTableDerived = options.seedsTable === undefined && !envText(SEEDS, env);
  return finish({
    connection,
    embeddedSeekdb: connection ? undefined : base.embeddedSeekdb,
    table: identifierSetting(TARGET.table, table, 'table'),
    tableDiscovery:
      configuredTable === undefined && base.tableDiscovery ? { migrationsTableDerived, seedsTableDerived } : undefined,
    idColumn: identifierSetting(TARGET.idColumn, options.idColumn ?? base.idColumn, 'idColumn'),
    textColumn: identifierSetting(
      TARGET.textColumn,
      options.textColumn ?? (typeof vs.text_field === 'string' ? vs.text_field : base.textColumn),
      'textColumn',
    ),
    sparseColumn: base.sparseColumn,
    sparseIndex: base.sparseIndex,
    enabled: options.enabled ?? (typeof vs.include_sparse === 'boolean' ? vs.include_sparse : base.enabled),
    storage: settingFromApi(SETTINGS.storage, options.storage) ?? base.storage,
    indexParams: options.indexParams ?? base.indexParams,
    migrationsTable: identifierSetting(
      MIGRATIONS,
      options.migrationsTable ??
        (envText(MIGRATIONS, env) ? base.migrationsTable : ledgerTableFor(MIGRATIONS.default, table)),
      'migrationsTable',
    ),
    seedsTable: identifierSetting(
      SEEDS,
      options.seedsTable ?? (envText(SEEDS, env) ? base.seedsTable : ledgerTableFor(SEEDS.default, table)),
      'seedsTable',
    ),
    lockTimeoutSeconds:
      settingFromApi(SETTINGS.lockTimeoutSeconds, options.lockTimeoutSeconds) ?? base.lockTimeoutSeconds,
    embedder,
    notices: base.notices,
  });
}

function finish(c: SparseVectorConfig): SparseVectorConfig {
  if (c.indexParams !== undefined && !INDEX_PARAMS.test(c.indexParams)) {
    throw new SparseVectorError(
      'CONFIG_INVALID',
      `${TARGET.indexParams.env}=${JSON.stringify(c.indexParams)} is not a list of key=value pairs.`,
      {
        hint: 'Use e.g. "distance=inner_product,type=sindi,lib=vsag" (letters, digits, "_" and "." only).',
      },
    );
  }
  if (c.connection) {
    validateDatabaseName(c.connection.database, 'the connection settings');
  }
  return Object.freeze(c);
}

/** Fail with a clear message when an entry point needs a database and none is configured. */
export function requireConnection(c: SparseVectorConfig): ConnectionConfig {
  if (!c.connection && c.embeddedSeekdb) throw embeddedSeekdbError(c.embeddedSeekdb);
  if (!c.connection) {
    throw new SparseVectorError('CONFIG_INVALID', 'No database is configured.', {
      hint:
        'Set SPARSE_VECTOR_DATABASE_URL or DATABASE_URL (mysql://user:password@host:port/database), or OCEANBASE_HOST/OCEANBASE_PORT/' +
        'OCEANBASE_USER/OCEANBASE_PASSWORD/OCEANBASE_DATABASE, in the environment or in .env.' +
        (insideSourceRepository()
          ? ' For the local MariaDB of this repository: npm run db:start, then DATABASE_URL=$(bash scripts/db.sh url).'
          : ''),
    });
  }
  return c.connection;
}
