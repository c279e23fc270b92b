import type { Knex } from 'knex';
import { requireConnection, type SparseVectorConfig } from '../config/config';
import { discoverTable } from '../config/table-discovery';
import { checkConnection, createKnex, withKnex } from '../db/knex';
import { checkSearchSpace, readSpaceRecord } from '../backfill/embedding-space';
import { canonicalFingerprint, createEmbedder, fingerprintOf } from '../embedders';
import type { SparseEmbedder } from '../embedders/types';
import { SparseVectorError } from '../errors';
import { toOceanBaseLiteral, type SparseVector } from '../sparse/sparse-vector';
import { readIdf, termStatsTable } from '../stats/term-stats';
import { openSchemaContext, readSchemaState, type SparseSchemaContext } from '../schema/sparse-schema';
import { createConsoleLogger, type Logger } from '../util/logger';
import { checkFilterColumns, powermemSimilarity, toColumnFilters, type SearchFilters } from './filters';

export interface SearchHit {
  /** The row's primary key, as a string (Snowflake ids exceed 2^53). */
  id: string;
  text: string;
  /** Inner product of the query and the row's vector (larger is better). */
  score: number;
  /** The similarity powermem reports for this hit: score / (1 + score) for score >= 0 (see powermemSimilarity). */
  similarity: number;
}

export interface SparseSearchOptions {
  config: SparseVectorConfig;
  query: string;
  /** Top-k (1..16384, default 10). */
  limit?: number;
  /** powermem's filters: only memories of this user / agent / run (all given ones must match). */
  filters?: SearchFilters;
  /** Use the application's knex instance (it is not destroyed). */
  knex?: Knex;
  /** Defaults to createEmbedder(config.embedder). */
  embedder?: SparseEmbedder;
  /**
   * logger.debug shows the sparse query and the result count, like powermem's DEBUG lines. The default
   * logger writes them to stdout when LOG_LEVEL=debug or SPARSE_DEBUG=1, and nothing otherwise.
   */
  logger?: Logger;
}

const ER_BAD_FIELD_ERROR = 1054;
const ER_NO_SUCH_TABLE = 1146;

/**
 * Sparse search: embed the query (query mode) and return the top-k rows by inner product, best first.
 * Native servers use the sparse index (`ORDER BY negative_inner_product(...) APPROXIMATE LIMIT k`); portable
 * mode computes the exact inner product in SQL (JSON_TABLE), without fetching the table into Node. Rows
 * without an embedding do not take part. An embedder other than the one recorded for the stored vectors is
 * refused (EMBEDDER_CHANGED; see backfill/embedding-space.ts). With the local embedder and term statistics (recorded by the
 * backfill), each query weight is multiplied by its term's IDF: the score becomes BM25 with IDF.
 */
export async function sparseSearch(options: SparseSearchOptions): Promise<SearchHit[]> {
  const log = options.logger ?? createConsoleLogger();
  const filters = toColumnFilters(options.filters); // bad filters: refused before the database is touched
  const embedder = options.embedder ?? createEmbedder(options.config.embedder);
  const connection = requireConnection(options.config);
  return withKnex(
    options.knex,
    () => createKnex(connection, { pool: 1 }),
    async (knex) => {
      if (!options.knex) await checkConnection(knex, connection);
      // Not logged: the DEBUG lines are powermem's two (the query vector, the result count).
      const config = await discoverTable(knex, options.config);
      const ctx = await openSchemaContext(knex, config);
      await checkFilterColumns(knex, ctx.target.table, filters);
      // The query must be in the stored vectors' embedding space (refused before the embedder is called).
      checkSearchSpace(await readSpaceRecord(knex, config), canonicalFingerprint(fingerprintOf(embedder)), config);
      const embedded = await embedder.embedQuery(options.query);
      log.debug(`Executing sparse vector search query with sparse_vector: ${toOceanBaseLiteral(embedded)}`);
      if (embedded.indices.length === 0) {
        // No term of the query has a weight (empty, or only stop words): every inner product would be 0.
        log.debug('_sparse_search results, len : 0');
        return [];
      }
      const vector = await weighQuery(knex, config, embedder, embedded, log);
      const statement = ctx.dialect.searchSql(ctx.target, vector, options.limit ?? 10, [], filters);
      log.debug(`SQL: ${statement.sql}`);
      let rows: Array<{ id: string | number; text: string | Buffer | null; score: unknown }>;
      try {
        [rows] = (await knex.raw(statement.sql, statement.bindings)) as [typeof rows];
      } catch (err) {
        const errno = (err as { errno?: number }).errno;
        if (errno === ER_BAD_FIELD_ERROR || errno === ER_NO_SUCH_TABLE) throw await notUpgraded(ctx, err);
        throw err;
      }
      // NULL scores (rows without a vector) can only appear when a server answers without the index.
      const hits = rows
        .filter((r) => r.score !== null && r.score !== undefined)
        .map((r) => {
          const score = statement.similarity(r.score);
          return {
            id: String(r.id),
            text: r.text === null ? '' : String(r.text),
            score,
            similarity: powermemSimilarity(score),
          };
        });
      log.debug(`_sparse_search results, len : ${hits.length}`);
      return hits;
    },
  );
}

/**
 * Query-side IDF for the local embedder (whose document weights are BM25 without IDF): the query's weights
 * times ln(1 + (N − df + 0.5)/(df + 0.5)) from the term statistics. Without statistics (a table backfilled
 * before they existed) the query is used as it is. Other providers' weights already carry term importance.
 */
async function weighQuery(
  knex: Knex,
  config: SparseVectorConfig,
  embedder: SparseEmbedder,
  vector: SparseVector,
  log: Logger,
): Promise<SparseVector> {
  if (embedder.provider !== 'local') return vector;
  const idf = await readIdf(knex, termStatsTable(config.table), vector.indices);
  if (!idf) {
    log.debug('No term statistics: the query is not weighted by IDF');
    return vector;
  }
  log.debug(
    `Query weighted by IDF from the term statistics: ${toOceanBaseLiteral({ indices: vector.indices, values: Float32Array.from(idf) })}`,
  );
  return { indices: vector.indices, values: Float32Array.from(vector.values, (w, k) => w * idf[k]) };
}

async function notUpgraded(ctx: SparseSchemaContext, cause: unknown): Promise<Error> {
  const state = await readSchemaState(ctx).catch(() => undefined);
  const { table, sparseColumn } = ctx.target;
  if (state && !state.tableExists) {
    return new SparseVectorError('TABLE_MISSING', `Table '${table}' does not exist.`, {
      hint: 'Set OCEANBASE_COLLECTION to the memories table.',
      cause,
    });
  }
  if (state && !state.column) {
    return new SparseVectorError(
      'SCHEMA_NOT_UPGRADED',
      `Table '${table}' has no ${sparseColumn} column: sparse search needs the schema upgrade first.`,
      {
        hint: 'Run `npx sparse-vector run upgrade-sparse-vector` (or `npx umzug up`), then backfill with `npx sparse-vector run migrate-sparse-vector`.',
        cause,
      },
    );
  }
  return cause instanceof Error ? cause : new Error(String(cause));
}
