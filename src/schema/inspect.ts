import type { Knex } from 'knex';

/** information_schema look-ups, always in the connection's current database. */

export async function tableExists(knex: Knex, table: string): Promise<boolean> {
  const [rows] = (await knex.raw(
    'SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? LIMIT 1',
    [table],
  )) as [unknown[]];
  return rows.length > 0;
}

export interface ColumnInfo {
  dataType: string;
  columnType: string;
  nullable: boolean;
}

export async function columnInfo(knex: Knex, table: string, column: string): Promise<ColumnInfo | undefined> {
  const [rows] = (await knex.raw(
    'SELECT DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable FROM information_schema.COLUMNS ' +
      'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ? LIMIT 1',
    [table, column],
  )) as [Array<{ dataType: string; columnType: string; nullable: string }>];
  const r = rows[0];
  return r
    ? { dataType: String(r.dataType), columnType: String(r.columnType), nullable: r.nullable === 'YES' }
    : undefined;
}

export async function indexExists(knex: Knex, table: string, index: string): Promise<boolean> {
  const [rows] = (await knex.raw(
    'SELECT 1 AS x FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ? LIMIT 1',
    [table, index],
  )) as [unknown[]];
  return rows.length > 0;
}

export async function currentDatabase(knex: Knex): Promise<string> {
  const [rows] = (await knex.raw('SELECT DATABASE() AS db')) as [Array<{ db: string | null }>];
  return String(rows[0]?.db ?? '');
}

/** The unique keys (PRIMARY included) of a table: each index's name and its columns in order. */
export async function uniqueKeys(knex: Knex, table: string): Promise<Array<{ name: string; columns: string[] }>> {
  const [rows] = (await knex.raw(
    'SELECT INDEX_NAME AS name, COLUMN_NAME AS col FROM information_schema.STATISTICS ' +
      'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX',
    [table],
  )) as [Array<{ name: string; col: string }>];
  const keys = new Map<string, string[]>();
  for (const r of rows) keys.set(String(r.name), [...(keys.get(String(r.name)) ?? []), String(r.col)]);
  return [...keys].map(([name, columns]) => ({ name, columns }));
}
