import { createHash } from 'node:crypto';
import { SparseVectorError } from '../errors';
import { loadDotenv } from './load-env';
import { validateDatabaseName, validateIdentifier } from '../identifiers';
import { embedderConfigFromEnv, embedderConfigFromObject } from '../embedders/config';
import type { EmbedderConfig } from '../embedders/types';
import { registerSecret } from '../util/redact';
import { ConnectionConfig, parseDatabaseUrl } from './connection-config';
import { connectionFromEnv } from './connection-env';
import { detectEmbeddedSeekdb, embeddedSeekdbError, type EmbeddedSeekdb } from './embedded-seekdb';
import { insideSourceRepository } from '../util/repository';
import { parseBoolean, parseInteger } from './parse';
import { settingFromApi, settingFromEnv } from '../options/settings';
import { SETTINGS } from '../options/table';

export type SparseStorage = 'native' | 'json';

/** The resolved, validated configuration every entry point works from. */
export interface SparseVectorConfig {
  /** Undefined means "not configured": entry points that may start the local default server do so. */
  connection?: ConnectionConfig;
  /**
   * The memories table (OCEANBASE_COLLECTION). Unset: powermem's default, found on the server (see
   * tableDiscovery): `power_mem` (powermem 1.1.x) or `memories` (older powermem, the migration guide).
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
  /** The text to embed (OCEANBASE_TEXT_FIELD, default "document"). */
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

/**
 * The default ledger table of a memories table: each table has its own ledgers, so that a second collection
 * in the same database is upgraded and backfilled on its own. powermem's default table `memories` keeps the
 * plain names (sparse_vector_migrations, sparse_vector_seeds); another table gets its name appended
 * (sparse_vector_migrations_notes), or a hash of it when that would not leave room for knex's `_lock` table
 * within MySQL's 64 characters.
 */
export function ledgerTableFor(base: 'sparse_vector_migrations' | 'sparse_vector_seeds', table: string): string {
  if (table === 'memories') return base;
  const name = `${base}_${table}`;
  return name.length <= 59 ? name : `${base}_${createHash('sha256').update(table).digest('hex').slice(0, 16)}`;
}

/**
 * powermem's words for "sparse vectors on" (storage/config/oceanbase.py, include_sparse's aliases), in its
 * order: the first one set wins.
 */
export const ENABLE_WORDS = ['OCEANBASE_INCLUDE_SPARSE', 'SPARSE_VECTOR_ENABLE'] as const;

/**
 * The table name held until discoverTable() finds the real one: `memories`, the guide's name and this
 * package's default before powermem 1.1 renamed it (a caller that reads `table` without discovery gets that).
 */
const POWERMEM_TABLE_PLACEHOLDER = 'memories';

function firstSet<T extends string>(env: Env, names: readonly T[]): T | undefined {
  return names.find((n) => env[n] !== undefined && env[n] !== '');
}

/** Read configuration from environment variables (process.env after dotenv, or a given map). */
export function configFromEnv(env: Env = process.env, options: { connection?: boolean } = {}): SparseVectorConfig {
  // resolveConfig passes connection: false when the caller gives the connection itself.
  const { connection, notices } =
    options.connection === false ? { connection: undefined, notices: [] } : connectionFromEnv(env);
  const enabledSource = firstSet(env, ENABLE_WORDS);
  const table = env.OCEANBASE_COLLECTION || POWERMEM_TABLE_PLACEHOLDER;
  return finish({
    connection,
    embeddedSeekdb: connection ? undefined : detectEmbeddedSeekdb(env),
    table: validateIdentifier(table, 'table name', 'OCEANBASE_COLLECTION'),
    tableDiscovery: env.OCEANBASE_COLLECTION
      ? undefined
      : { migrationsTableDerived: !env.SPARSE_MIGRATIONS_TABLE, seedsTableDerived: !env.SPARSE_SEEDS_TABLE },
    idColumn: validateIdentifier(env.SPARSE_ID_FIELD || 'id', 'id column', 'SPARSE_ID_FIELD'),
    textColumn: validateIdentifier(env.OCEANBASE_TEXT_FIELD || 'document', 'text column', 'OCEANBASE_TEXT_FIELD'),
    sparseColumn: 'sparse_embedding',
    sparseIndex: 'sparse_embedding_idx',
    enabled: enabledSource ? parseBoolean(env[enabledSource], enabledSource, true) : true,
    storage: settingFromEnv(SETTINGS.storage, env),
    indexParams: env.SPARSE_VECTOR_INDEX_PARAMS || undefined,
    migrationsTable: validateIdentifier(
      env.SPARSE_MIGRATIONS_TABLE || ledgerTableFor('sparse_vector_migrations', table),
      'migrations table',
      'SPARSE_MIGRATIONS_TABLE',
    ),
    seedsTable: validateIdentifier(
      env.SPARSE_SEEDS_TABLE || ledgerTableFor('sparse_vector_seeds', table),
      'seeds table',
      'SPARSE_SEEDS_TABLE',
    ),
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
      port: c.port ?? 3306,
      user: c.user ?? 'root',
      password: c.password ?? '',
      database: c.database,
      ...(c.ssl ? { ssl: c.ssl } : {}),
    };
  } else if (typeof vs.host === 'string') {
    const password = typeof vs.password === 'string' ? vs.password : '';
    registerSecret(password);
    return {
      host: vs.host,
      port: parseInteger(vs.port as string | number | undefined, 'vector_store.config.port', 2881, {
        min: 1,
        max: 65535,
      }),
      user: typeof vs.user === 'string' ? vs.user : 'root',
      password,
      database: stringSetting(vs.db_name) ?? stringSetting(vs.database) ?? '',
    };
  }
  return fromEnv;
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
    connection: !(options.databaseUrl || options.connection || typeof vs.host === 'string'),
  });
  const connection = connectionOf(options, vs, base.connection);
  const embedder = options.sparse_embedder
    ? embedderConfigFromObject({ sparse_embedder: options.sparse_embedder })
    : options.embedder
      ? embedderConfigFromObject({ ...base.embedder, ...options.embedder })
      : base.embedder;
  const configuredTable = options.table ?? (typeof vs.collection_name === 'string' ? vs.collection_name : undefined);
  const table = configuredTable ?? base.table;
  const migrationsTableDerived = options.migrationsTable === undefined && !env.SPARSE_MIGRATIONS_TABLE;
  const seedsTableDerived = options.seedsTable === undefined && !env.SPARSE_SEEDS_TABLE;
  return finish({
    connection,
    embeddedSeekdb: connection ? undefined : base.embeddedSeekdb,
    table: validateIdentifier(table, 'table name', 'table'),
    tableDiscovery:
      configuredTable === undefined && base.tableDiscovery ? { migrationsTableDerived, seedsTableDerived } : undefined,
    idColumn: validateIdentifier(options.idColumn ?? base.idColumn, 'id column', 'idColumn'),
    textColumn: validateIdentifier(
      options.textColumn ?? (typeof vs.text_field === 'string' ? vs.text_field : base.textColumn),
      'text column',
      'textColumn',
    ),
    sparseColumn: base.sparseColumn,
    sparseIndex: base.sparseIndex,
    enabled: options.enabled ?? (typeof vs.include_sparse === 'boolean' ? vs.include_sparse : base.enabled),
    storage: settingFromApi(SETTINGS.storage, options.storage) ?? base.storage,
    indexParams: options.indexParams ?? base.indexParams,
    migrationsTable: validateIdentifier(
      options.migrationsTable ??
        (env.SPARSE_MIGRATIONS_TABLE ? base.migrationsTable : ledgerTableFor('sparse_vector_migrations', table)),
      'migrations table',
      'migrationsTable',
    ),
    seedsTable: validateIdentifier(
      options.seedsTable ?? (env.SPARSE_SEEDS_TABLE ? base.seedsTable : ledgerTableFor('sparse_vector_seeds', table)),
      'seeds table',
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
      `SPARSE_VECTOR_INDEX_PARAMS=${JSON.stringify(c.indexParams)} is not a list of key=value pairs.`,
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

/** A powermem-style setting given as a string or a number (anything else counts as not given). */
function stringSetting(v: unknown): string | undefined {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}
