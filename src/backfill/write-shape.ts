import type { Knex } from 'knex';
import type { SparseDialect, SparseTarget } from '../dialect/dialect';
import { versionAtLeast } from '../db/server-info';
import { quoteIdentifier as q } from '../identifiers';

/*
 * The batched write's statement, in the shapes a server may take (docs/benchmarks.md, "The write's shape, and
 * the batch size", has the measurements). Every shape keeps the same guard: a row is written only while its vector is
 * NULL and its text still has the hash that was embedded.
 */

/**
 * - `rows`: how the batch's (id, hash, value) rows reach the server: `union`, one `SELECT ?, ?, ?` per row
 *   joined by `UNION ALL` (any MySQL-family server, OceanBase and seekdb), `values`, MariaDB's table value
 *   constructor after the first row's `SELECT` (one query block for the batch instead of one per row), or
 *   `lookup`, no join at all: a prepared single-table UPDATE over the id range that finds each row's values
 *   by its id's position among the batch's sorted ids (lookup-write.ts; MariaDB, with `range` only).
 * - `range`: the table is read first (`STRAIGHT_JOIN`) over the batch's id range (see idBounds),
 *   so the server updates each row as it reads it, instead of buffering the new values in a second temporary
 *   table as it must when the batch's rows come first. Integer ids only (min and max computed exactly here).
 */
export interface BatchShape {
  rows: 'union' | 'values' | 'lookup';
  range: boolean;
}

/** What the statement needs of a row to write (writer.ts's PendingWrite): its id, its text's MD5, its vector. */
export interface BatchRow {
  id: string;
  hash: string;
  value: string;
}

/** The shape every server takes (the one before issue 14's measurements): union rows, no range. */
export const PLAIN_SHAPE: BatchShape = { rows: 'union', range: false };

/** MariaDB has the table value constructor (`VALUES (…), (…)` as a query) since 10.3.3. */
const VALUES_SINCE = [10, 3, 3];

/**
 * The shape a run's batched writes start with (the writer falls back from it when the server rejects it):
 * - `values` on MariaDB >= 10.3.3 (MySQL spells it `VALUES ROW(…)`, OceanBase and seekdb were not measured);
 * - `range` in portable mode, for integer ids, when the run covers the whole table (a shard's rows are spread
 *   over every range, so its range reads would wait on the other shards' row locks) and writes inside the
 *   term statistics' transaction, which then runs at READ COMMITTED: no gap locks on the range, and a row
 *   of the range the batch does not write is not kept locked. Not when the binary log is written in
 *   STATEMENT format, which refuses InnoDB writes at READ COMMITTED;
 * - `lookup` rows where the range applies on MariaDB (measured there only: ~25% less of the server's CPU
 *   per row than `values` with the range, docs/benchmarks.md).
 */
export async function chooseBatchShape(
  knex: Knex,
  dialect: SparseDialect,
  run: { integerIds: boolean; wholeTable: boolean; counted: boolean },
): Promise<BatchShape> {
  const { product, version } = dialect.server;
  const mariadb = product === 'mariadb';
  const candidate = dialect.name === 'portable-json' && run.integerIds && run.wholeTable && run.counted;
  const range = candidate && !(await statementBinlog(knex));
  if (range && mariadb) return { rows: 'lookup', range };
  return { rows: mariadb && versionAtLeast(version, VALUES_SINCE) ? 'values' : 'union', range };
}

/** Whether the server writes a binary log in STATEMENT format (where READ COMMITTED writes are refused). */
async function statementBinlog(knex: Knex): Promise<boolean> {
  try {
    const [rows] = (await knex.raw('SELECT @@log_bin AS on_, @@binlog_format AS format')) as [
      Array<{ on_: unknown; format: unknown }>,
    ];
    return Number(rows[0]?.on_) === 1 && String(rows[0]?.format).toUpperCase() === 'STATEMENT';
  } catch {
    return true; // unknown: the plain shape, which needs no READ COMMITTED
  }
}

/** The UPDATE of a batch in the given shape, with its bindings (ids travel as `idParam`, see idPlaceholder). */
export function batchUpdate(
  t: SparseTarget,
  items: readonly BatchRow[],
  idParam: string,
  shape: BatchShape,
): { sql: string; bindings: string[] } {
  if (shape.rows === 'lookup') throw new Error('the lookup shape is not a join: see lookupUpdate (lookup-write.ts)');
  const bindings = items.flatMap((w) => [w.id, w.hash, w.value]);
  const first = `SELECT ${idParam} AS id, ? AS h, ? AS v`;
  const rest = items.slice(1);
  let rows: string;
  if (shape.rows === 'values')
    rows = rest.length ? `${first} UNION ALL VALUES ${rest.map(() => `(${idParam}, ?, ?)`).join(', ')}` : first;
  else rows = [first, ...rest.map(() => `SELECT ${idParam}, ?, ?`)].join(' UNION ALL ');
  const id = `m.${q(t.idColumn)}`;
  let range = '';
  if (shape.range) {
    const within = idRange(id, idParam, items);
    range = ` AND ${within.sql}`;
    bindings.push(...within.bindings);
  }
  return {
    sql:
      `UPDATE ${q(t.table)} AS m ${shape.range ? 'STRAIGHT_JOIN' : 'JOIN'} (${rows}) AS x ON ${id} = x.id ` +
      `SET m.${q(t.sparseColumn)} = x.v ` +
      `WHERE m.${q(t.sparseColumn)} IS NULL AND MD5(m.${q(t.textColumn)}) = x.h${range}`,
    bindings,
  };
}

/**
 * The condition that reads only the batch's id range (see idBounds), on the column reference `id`, with its
 * bindings: `(id BETWEEN ? AND ? OR id = ?)`, or `id = ?` for one row. Shared by the range and lookup shapes.
 */
export function idRange(id: string, idParam: string, items: readonly BatchRow[]): { sql: string; bindings: string[] } {
  const bounds = idBounds(items);
  const sql =
    bounds.length === 1 ? `${id} = ${idParam}` : `(${id} BETWEEN ${idParam} AND ${idParam} OR ${id} = ${idParam})`;
  return { sql, bindings: bounds };
}

/**
 * The batch's integer ids as the range reads them: [smallest, second largest, largest], or [the id] for one
 * row (decimal text, compared exactly by compareIds: Snowflake ids exceed 2^53). The range is
 * `id BETWEEN smallest AND second largest OR id = largest`, not `BETWEEN smallest AND largest`: a range scan
 * reads, and in an UPDATE locks, the row after its end to see that it ended, and after the largest id that is
 * usually the first row of the batch another worker is writing, whose commit the write then waited for. The
 * largest id alone is a unique lookup, which reads no further.
 */
function idBounds(items: readonly BatchRow[]): string[] {
  let min = items[0].id;
  let max = min;
  let second: string | undefined;
  for (let k = 1; k < items.length; k++) {
    const id = items[k].id;
    if (compareIds(id, min) < 0) min = id;
    if (compareIds(id, max) > 0) [second, max] = [max, id];
    else if (second === undefined || compareIds(id, second) > 0) second = id;
  }
  return second === undefined ? [max] : [min, second, max];
}

/**
 * Integer ids in decimal text, as the server returns them (no leading zeros, '-' the only sign), compared by
 * value without parsing them: by sign, then length, then text. Exact at any size (Snowflake ids exceed 2^53,
 * BIGINT UNSIGNED 2^63); a BigInt per row cost more than the comparison.
 */
export function compareIds(a: string, b: string): number {
  const negative = a.charCodeAt(0) === 45; // '-'
  if (negative !== (b.charCodeAt(0) === 45)) return negative ? -1 : 1;
  const order = a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return negative ? -order : order;
}

/** The shape in words, for doctor: 'VALUES list, table first over the id range'. */
export function describeShape(shape: BatchShape): string {
  if (shape.rows === 'lookup') return 'ids looked up in the batch by a prepared statement, over the id range';
  const rows = shape.rows === 'values' ? 'VALUES list' : 'one SELECT per row';
  return shape.range ? `${rows}, table first over the id range` : rows;
}

/** The next shape to try after the server rejected `shape`; undefined: none left (write row by row). */
export function fallbackShape(shape: BatchShape): BatchShape | undefined {
  if (shape.rows === 'lookup') return { ...shape, rows: 'values' };
  if (shape.rows === 'values') return { ...shape, rows: 'union' };
  if (shape.range) return { ...shape, range: false };
  return undefined;
}
