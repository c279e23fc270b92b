import type { Knex } from 'knex';
import type { ColumnFilter } from '../dialect/dialect';
import { SparseVectorError } from '../errors';
import { columnInfo } from '../schema/inspect';

/** powermem's search filters: the memory's owner columns (equality, all given ones must match). */
export const FILTER_COLUMNS = ['user_id', 'agent_id', 'run_id'] as const;
export type FilterColumn = (typeof FILTER_COLUMNS)[number];
export type SearchFilters = Partial<Record<FilterColumn, string>>;

/** Check the filters (known names, non-empty text) and turn them into column filters, in a fixed order. */
export function toColumnFilters(filters: SearchFilters | undefined): ColumnFilter[] {
  if (filters === undefined || filters === null) return [];
  if (typeof filters !== 'object')
    throw invalid(`filters must be an object like { user_id: 'u1' }, got ${typeof filters}.`);
  for (const key of Object.keys(filters)) {
    if (!(FILTER_COLUMNS as readonly string[]).includes(key))
      throw invalid(`Unknown search filter '${key}'. Accepted: ${FILTER_COLUMNS.join(', ')}.`);
  }
  const out: ColumnFilter[] = [];
  for (const column of FILTER_COLUMNS) {
    const raw: unknown = filters[column];
    if (raw === undefined) continue;
    const value = typeof raw === 'number' ? String(raw) : raw;
    if (typeof value !== 'string' || value === '')
      throw invalid(`Search filter ${column} must be a non-empty text, got ${JSON.stringify(raw)}.`);
    out.push({ column, value });
  }
  return out;
}

/** Every filtered column exists (a clear error instead of the server's "unknown column"). */
export async function checkFilterColumns(knex: Knex, table: string, filters: readonly ColumnFilter[]): Promise<void> {
  for (const f of filters) {
    if (!(await columnInfo(knex, table, f.column))) {
      throw new SparseVectorError('COLUMN_MISSING', `Table '${table}' has no column '${f.column}' to filter on.`, {
        hint: `powermem's memories table has user_id, agent_id and run_id; leave out the ${f.column} filter for this table.`,
      });
    }
  }
}

/**
 * The similarity powermem reports for a sparse hit (storage/oceanbase/oceanbase.py, _sparse_search): for an
 * inner product ip >= 0, ip / (1 + ip) (in [0, 1)); for ip < 0, max(0, 1 / (1 - ip)).
 */
export function powermemSimilarity(innerProduct: number): number {
  return innerProduct >= 0 ? innerProduct / (1 + innerProduct) : Math.max(0, 1 / (1 - innerProduct));
}

function invalid(message: string): SparseVectorError {
  return new SparseVectorError('CONFIG_INVALID', message, {
    hint: `Filter on ${FILTER_COLUMNS.join(', ')} (CLI: --user-id, --agent-id, --run-id).`,
  });
}
