import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { SparseVectorError } from '../errors';
import { columnInfo, uniqueKeys } from './inspect';

const REQUIRED = 'the primary key, or a UNIQUE NOT NULL column, on its own';
const HINT =
  'Set SPARSE_ID_FIELD (idColumn) to such a column (powermem tables: id, the primary key), or add a unique key on a NOT NULL column. Nothing was changed.';

/**
 * The backfill pages through the table by the id column (`WHERE id > ? ORDER BY id`) and writes each row
 * by it, so the column must identify one row: the primary key or a UNIQUE NOT NULL column, on its own.
 * A non-unique column would skip rows at batch boundaries, a composite key would mix rows, and a NULL id
 * can be neither read past nor written. Refused before anything is written, naming the column.
 */
export async function checkIdColumn(knex: Knex, t: SparseTarget): Promise<void> {
  const keys = await uniqueKeys(knex, t.table);
  const own = keys.filter((k) => k.columns.length === 1 && k.columns[0].toLowerCase() === t.idColumn.toLowerCase());
  const info = await columnInfo(knex, t.table, t.idColumn);
  if (own.some((k) => k.name === 'PRIMARY') || (own.length && info && !info.nullable)) return;
  const what = `The id column '${t.idColumn}' of table '${t.table}'`;
  const composite = keys.find(
    (k) => k.columns.length > 1 && k.columns.some((c) => c.toLowerCase() === t.idColumn.toLowerCase()),
  );
  let problem: string;
  if (own.length) problem = 'is unique but allows NULL';
  else if (composite)
    problem = `is only part of the ${composite.name === 'PRIMARY' ? 'composite primary key' : `composite unique key '${composite.name}'`} (${composite.columns.join(', ')})`;
  else problem = 'is not unique (no primary key or unique key on it alone)';
  throw new SparseVectorError('ID_COLUMN_INVALID', `${what} ${problem}; the backfill needs ${REQUIRED}.`, {
    hint: HINT,
  });
}
