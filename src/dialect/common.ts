import { SEARCH } from '../options/table';
import { quoteIdentifier as q } from '../identifiers';
import { SparseVectorError } from '../errors';
import type { SparseVector } from '../sparse/sparse-vector';
import type { ColumnFilter, SearchRequest, SearchStatement, SparseTarget } from './dialect';

/** Statements that are the same on every MySQL-protocol server we support. */
export function dropIndexStatement(t: SparseTarget): string {
  // No server of the family has DROP INDEX IF EXISTS here: callers check information_schema first.
  return `DROP INDEX ${q(t.sparseIndex)} ON ${q(t.table)}`;
}

export function dropColumnStatement(t: SparseTarget): string {
  return `ALTER TABLE ${q(t.table)} DROP COLUMN ${q(t.sparseColumn)}`;
}

/**
 * What every dialect does alike: the DROP statements (no server of the family has DROP INDEX IF EXISTS here:
 * callers check information_schema first; on portable storage the index exists only if made by hand), and a
 * stored value that arrives as a Buffer read as UTF-8 text.
 */
export abstract class CommonStatements {
  dropIndexSql(t: SparseTarget): string {
    return dropIndexStatement(t);
  }

  dropColumnSql(t: SparseTarget): string {
    return dropColumnStatement(t);
  }

  protected storedText(raw: unknown): unknown {
    return Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
  }

  /** Top-k by inner product (SparseDialect.searchSql): the dialect's searchStatement for these arguments. */
  searchSql(
    t: SparseTarget,
    query: SparseVector,
    k: number,
    extraColumns: readonly string[] = [],
    filters: readonly ColumnFilter[] = [],
  ): SearchStatement {
    return this.searchStatement({ target: t, query, k, extraColumns, filters });
  }

  /** The dialect's search statement: only rows with an embedding (and matching every filter) take part. */
  protected abstract searchStatement(search: SearchRequest): SearchStatement;
}

export function selectList(t: SparseTarget, alias: string, extraColumns: readonly string[] = []): string {
  const cols = [`${alias}.${q(t.idColumn)} AS ${q('id')}`, `${alias}.${q(t.textColumn)} AS ${q('text')}`];
  for (const c of extraColumns) cols.push(`${alias}.${q(c)}`);
  return cols.join(', ');
}

/** ` AND a.user_id = ? AND ...` for the filters (values bound in this order), or ''. */
export function filterConditions(alias: string, filters: readonly ColumnFilter[]): { sql: string; bindings: string[] } {
  return {
    sql: filters.map((f) => ` AND ${alias}.${q(f.column)} = ?`).join(''),
    bindings: filters.map((f) => f.value),
  };
}

/** ANN queries on OceanBase/seekdb accept LIMIT (+OFFSET) up to 16,384. */
export const MAX_SEARCH_LIMIT = SEARCH.limit.range.max;

export function checkLimit(k: number): number {
  if (!Number.isSafeInteger(k) || k < 1 || k > MAX_SEARCH_LIMIT) {
    throw new SparseVectorError(
      'CONFIG_INVALID',
      `Search limit ${k} is out of range: use a whole number from 1 to ${MAX_SEARCH_LIMIT}.`,
      {
        hint: `OceanBase/seekdb answer approximate (indexed) queries with at most ${MAX_SEARCH_LIMIT} rows.`,
      },
    );
  }
  return k;
}
