import type { Knex } from 'knex';
import { requireConnection, type SparseVectorConfig } from '../config/config';
import { checkConnection, createKnex } from '../db/knex';
import { createEmbedder } from '../embedders';
import type { SparseEmbedder } from '../embedders/types';
import { toOceanBaseLiteral } from '../sparse/sparse-vector';
import { openSchemaContext } from '../schema/sparse-schema';
import { silentLogger, type Logger } from '../util/logger';

export interface SearchHit {
  id: string;
  text: string;
  /** Inner product of the query and the row's vector (larger is better). */
  score: number;
}

export interface SparseSearchOptions {
  config: SparseVectorConfig;
  query: string;
  /** Top-k (1..16384, default 10). */
  limit?: number;
  knex?: Knex;
  embedder?: SparseEmbedder;
  /** logger.debug shows the sparse query and the result count, like powermem's DEBUG lines. */
  logger?: Logger;
}

/**
 * Sparse search: embed the query (query mode) and return the top-k rows by inner product. Native servers
 * use the sparse index (`ORDER BY negative_inner_product(...) APPROXIMATE LIMIT k`); portable mode computes
 * the exact inner product in SQL. Rows without an embedding do not take part.
 */
export async function sparseSearch(options: SparseSearchOptions): Promise<SearchHit[]> {
  const { config } = options;
  const log = options.logger ?? silentLogger;
  const embedder = options.embedder ?? createEmbedder(config.embedder);
  const connection = requireConnection(config);
  const knex = options.knex ?? createKnex(connection, { pool: 1 });
  try {
    if (!options.knex) await checkConnection(knex, connection);
    const ctx = await openSchemaContext(knex, config);
    const vector = await embedder.embedQuery(options.query);
    const statement = ctx.dialect.searchSql(ctx.target, vector, options.limit ?? 10);
    log.debug(`Executing sparse vector search query with sparse_vector: ${toOceanBaseLiteral(vector)}`);
    log.debug(`SQL: ${statement.sql}`);
    const [rows] = (await knex.raw(statement.sql, statement.bindings)) as [Array<{ id: string | number; text: string | null; score: unknown }>];
    const hits = rows
      .filter((r) => r.score !== null && r.score !== undefined)
      .map((r) => ({ id: String(r.id), text: r.text === null ? '' : String(r.text), score: statement.similarity(r.score) }));
    log.debug(`_sparse_search results, len : ${hits.length}`);
    return hits;
  } finally {
    if (!options.knex) await knex.destroy();
  }
}
