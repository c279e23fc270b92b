import type { OptionSpec } from './spec';

/**
 * Where the database and the memories table are, and the logging level: the part of the option table
 * (src/options/table.ts) that src/config reads from the environment (and from a configuration object:
 * `keys` are powermem's `vector_store.config` keys, then this package's camelCase ones). A separate file
 * only to keep each under 300 lines; it imports nothing, so util/logger.ts can read its row too.
 * No other file states one of these defaults or ranges.
 */

/** powermem's port (OceanBase's and seekdb's MySQL-protocol port). */
const OCEANBASE_PORT = 2881;
/** MySQL's port: what a URL or a `connection` object without a port means. */
export const MYSQL_PORT = 3306;
const URL_EXAMPLE = `mysql://user:password@127.0.0.1:${OCEANBASE_PORT}/powermem`;
/** powermem 1.1.x's embedded seekdb data path (OCEANBASE_PATH's default there). */
const SEEKDB_PATH = './seekdb_data';
/** The ledgers' names for the guide's table; another table's ledgers append its name (config.ts ledgerTableFor). */
const MIGRATIONS = 'sparse_vector_migrations';
const SEEDS = 'sparse_vector_seeds';

/**
 * The memories tables powermem uses when OCEANBASE_COLLECTION is unset: `power_mem` in powermem 1.1.x
 * (storage/config/oceanbase.py), `memories` in older powermem and in the migration guide's examples.
 */
export const POWERMEM_DEFAULT_TABLES = ['power_mem', 'memories'] as const;
/** The guide's table: its ledgers keep the plain names, and a configuration held before discovery names it. */
export const GUIDE_TABLE = POWERMEM_DEFAULT_TABLES[1];
export const LOG_LEVELS = ['info', 'debug', 'silent'] as const;

/** The database: this package's URL, powermem's OCEANBASE_* variables, then DATABASE_URL (config/connection-env.ts). */
export const CONNECTION = {
  databaseUrl: {
    name: 'databaseUrl',
    env: 'SPARSE_VECTOR_DATABASE_URL',
    keys: ['databaseUrl'],
    type: 'string',
    defaultText: 'none',
    example: URL_EXAMPLE,
    help: `This package's own database URL, e.g. ${URL_EXAMPLE}; wins over the other connection settings (use it when DATABASE_URL is your application's other database).`,
  },
  host: {
    name: 'host',
    env: 'OCEANBASE_HOST',
    keys: ['host'],
    type: 'string',
    defaultText: 'none',
    example: '127.0.0.1',
    help: "powermem's connection variables (OCEANBASE_HOST/PORT/USER/PASSWORD/DATABASE): win over DATABASE_URL (a non-MySQL DATABASE_URL is then ignored, with a notice). The server's host.",
  },
  port: {
    name: 'port',
    env: 'OCEANBASE_PORT',
    keys: ['port'],
    type: 'int',
    range: { min: 1, max: 65_535 },
    default: OCEANBASE_PORT,
    help: `The server's port (powermem's; a URL or a connection object without a port: ${MYSQL_PORT}).`,
  },
  user: {
    name: 'user',
    env: 'OCEANBASE_USER',
    keys: ['user'],
    type: 'string',
    default: 'root',
    help: 'The user; quote a value that holds # (dotenv starts a comment there), e.g. "root@tenant#cluster".',
  },
  password: {
    name: 'password',
    env: 'OCEANBASE_PASSWORD',
    keys: ['password'],
    type: 'string',
    default: '',
    defaultText: 'empty',
    help: 'The password (redacted from every log line and error).',
  },
  database: {
    name: 'database',
    env: 'OCEANBASE_DATABASE',
    keys: ['db_name', 'database'],
    type: 'string',
    defaultText: 'none',
    example: 'powermem',
    help: 'The database that holds the memories table (required with OCEANBASE_HOST); any name the server accepts quoted, e.g. my-app.',
  },
  applicationUrl: {
    name: 'applicationUrl',
    env: 'DATABASE_URL',
    type: 'string',
    defaultText: 'none',
    example: URL_EXAMPLE,
    help: 'Used when neither SPARSE_VECTOR_DATABASE_URL nor OCEANBASE_HOST is set; must be a MySQL-protocol URL (mysql://, mariadb://, oceanbase://, seekdb://). TLS with ?ssl=true, ?ssl-ca=/path/ca.pem, ?ssl-reject-unauthorized=false or ?ssl={"rejectUnauthorized":true} (mysql2\'s ssl options); other URL parameters are refused.',
  },
  embeddedPath: {
    name: 'embeddedPath',
    env: 'OCEANBASE_PATH',
    type: 'string',
    default: SEEKDB_PATH,
    defaultText: `none (${SEEKDB_PATH} when that directory exists)`,
    help: "powermem's embedded seekdb data path: with OCEANBASE_HOST empty it (or a ./seekdb_data directory) makes every command say embedded seekdb is not supported by this tool, and what to run instead.",
  },
} as const satisfies Record<string, OptionSpec>;

/** The memories table, its columns, sparse vectors on or off, the index parameters and the ledgers. */
export const TARGET = {
  table: {
    name: 'table',
    env: 'OCEANBASE_COLLECTION',
    keys: ['collection_name', 'table'],
    type: 'string',
    identifier: 'table name',
    defaultText: `found: ${POWERMEM_DEFAULT_TABLES.join(' or ')}`,
    example: POWERMEM_DEFAULT_TABLES[0],
    help: `The memories table; unset, the one of powermem 1.1's ${POWERMEM_DEFAULT_TABLES[0]} and older powermem's ${GUIDE_TABLE} that exists (both or neither: an error saying so).`,
  },
  textColumn: {
    name: 'textColumn',
    env: 'OCEANBASE_TEXT_FIELD',
    keys: ['text_field', 'textColumn'],
    type: 'string',
    identifier: 'text column',
    default: 'document',
    help: 'The text column the embeddings are computed from.',
  },
  idColumn: {
    name: 'idColumn',
    env: 'SPARSE_ID_FIELD',
    keys: ['idColumn'],
    type: 'string',
    identifier: 'id column',
    default: 'id',
    help: 'The primary key, or a UNIQUE NOT NULL column, on its own (the backfill refuses anything else).',
  },
  enabled: {
    name: 'enabled',
    env: 'OCEANBASE_INCLUDE_SPARSE',
    aliases: ['SPARSE_VECTOR_ENABLE'],
    keys: ['include_sparse', 'enabled'],
    type: 'bool',
    default: true,
    help: "Sparse vectors on: false makes the boot API (migrateToLatest / backfillOnBoot) a no-op. powermem's two words in powermem's order, the first one set wins; default true here (false in powermem: this tool exists to turn sparse vectors on).",
  },
  indexParams: {
    name: 'indexParams',
    env: 'SPARSE_VECTOR_INDEX_PARAMS',
    keys: ['indexParams'],
    type: 'string',
    defaultText: 'per product',
    example: 'distance=inner_product,type=sindi,lib=vsag',
    help: "The sparse vector index's WITH (...) parameters, e.g. distance=inner_product,type=sindi,lib=vsag (default: seekdb's documented ones on seekdb, distance=inner_product on OceanBase; when the server rejects them the upgrade tries the other known forms and says which one it used).",
  },
  migrationsTable: {
    name: 'migrationsTable',
    env: 'SPARSE_MIGRATIONS_TABLE',
    keys: ['migrationsTable'],
    type: 'string',
    identifier: 'migrations table',
    default: MIGRATIONS,
    defaultText: `${MIGRATIONS} (table ${GUIDE_TABLE}), else ${MIGRATIONS}_<table>`,
    help: 'The schema ledger (knex format); each memories table has its own, so two collections in one database are upgraded independently.',
  },
  seedsTable: {
    name: 'seedsTable',
    env: 'SPARSE_SEEDS_TABLE',
    keys: ['seedsTable'],
    type: 'string',
    identifier: 'seeds table',
    default: SEEDS,
    defaultText: `${SEEDS} (table ${GUIDE_TABLE}), else ${SEEDS}_<table>`,
    help: "The seeder's ledger; one per memories table.",
  },
} as const satisfies Record<string, OptionSpec>;

export const LOGGING = {
  logLevel: {
    name: 'logLevel',
    env: 'LOG_LEVEL',
    type: 'choice',
    choices: LOG_LEVELS,
    default: 'info',
    help: 'info, debug (also logs the SQL and the sparse search query) or silent; SPARSE_DEBUG=1 is short for debug, and another value means info.',
  },
} as const satisfies Record<string, OptionSpec>;
