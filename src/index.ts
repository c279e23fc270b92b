/** sparse-vector-migration: public API. */
export { SparseVectorError, isSparseVectorError, type SparseVectorErrorCode } from './errors';
export {
  resolveConfig,
  configFromEnv,
  requireConnection,
  type SparseVectorConfig,
  type SparseVectorOptions,
  type SparseStorage,
} from './config/config';
export {
  parseDatabaseUrl,
  describeConnection,
  type ConnectionConfig,
  type TlsOptions,
} from './config/connection-config';
export { connectionFromEnv, type EnvConnection } from './config/connection-env';
export { loadDotenv } from './config/load-env';
export { createKnex } from './db/knex';
export {
  parseServerVersion,
  detectServer,
  describeServer,
  type ServerInfo,
  type ServerProduct,
} from './db/server-info';
export { acquireLock, withLock, lockName, type HeldLock } from './db/lock';
export type { SparseDialect, SparseTarget, SearchStatement } from './dialect/dialect';
export { selectDialect, supportsNativeSparse, MIN_OCEANBASE_VERSION } from './dialect/select-dialect';
export { OceanBaseDialect, OCEANBASE_DEFAULT_INDEX_PARAMS } from './dialect/oceanbase';
export { SeekdbDialect, SEEKDB_DEFAULT_INDEX_PARAMS } from './dialect/seekdb';
export { PortableJsonDialect } from './dialect/portable-json';
export {
  openSchemaContext,
  readSchemaState,
  upgradeSparseSchema,
  downgradeSparseSchema,
  type SchemaState,
} from './schema/sparse-schema';
export { createSparseMigrator, type SparseMigrator, type SparseMigratorOptions } from './migrator/umzug';
export { migrateToLatest, type MigrateToLatestOptions, type MigrateToLatestResult } from './migrator/migrate-on-boot';
export { createKnexfileConfig, SparseMigrationSource } from './migrator/knexfile-config';
export { KnexLedgerStorage } from './migrator/ledger';
export { withSparseVector, type WithSparseVectorOptions } from './compose/with-sparse-vector';
export { sparseVectorMigrations, type SparseVectorMigrationsOptions } from './compose/umzug-migrations';
export { createConsoleLogger, silentLogger, type Logger } from './util/logger';
export {
  ScriptManager,
  listScripts,
  scriptInfo,
  runScript,
  type ScriptInfo,
  type RunScriptOptions,
  type ScriptRunResult,
} from './script-manager/manager';
export { sparseSearch, type SearchHit, type SparseSearchOptions } from './search/sparse-search';
export { powermemSimilarity, FILTER_COLUMNS, type SearchFilters } from './search/filters';
export { verifySparseVector, formatVerifyReport, type VerifyReport, type VerifyOptions } from './verify/verify';
export {
  createEmbedder,
  embedderConfigFromEnv,
  embedderConfigFromObject,
  EMBEDDER_PROVIDERS,
  LocalSparseEmbedder,
  QwenSparseEmbedder,
  TeiSparseEmbedder,
  type EmbedderConfig,
  type EmbedderProvider,
  type EmbedderProviderDefinition,
  type EmbedMode,
  type SparseEmbedder,
} from './embedders';
export {
  createSparseVector,
  checkIndexLimit,
  toOceanBaseLiteral,
  parseOceanBaseLiteral,
  toPortableJson,
  parsePortableJson,
  sparseDot,
  SPARSE_INDEX_LIMIT,
  type SparseVector,
  type SparseVectorInput,
} from './sparse/sparse-vector';
export {
  runBackfill,
  runSeeder,
  backfillOnBoot,
  parseShard,
  BACKFILL_DEFAULTS,
  type BackfillOptions,
  type BackfillSummary,
  type BackfillFailure,
  type BackfillProgress,
  type BackfillOnBootOptions,
  type BackgroundBackfill,
  type SeederResult,
  type Shard,
} from './backfill';
export { doctor, formatDoctorReport, type DoctorCheck, type DoctorReport, type DoctorOptions } from './doctor/doctor';
