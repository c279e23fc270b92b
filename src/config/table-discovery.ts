import type { Knex } from 'knex';
import { SparseVectorError } from '../errors';
import type { Logger } from '../util/logger';
import { GUIDE_TABLE, POWERMEM_DEFAULT_TABLES, TARGET } from '../options/table-connection';
import { ledgerTableFor, type SparseVectorConfig } from './config';

export { POWERMEM_DEFAULT_TABLES };

/** powermem 1.1's default table and the variable that names the table. */
const [POWERMEM_1_1, VARIABLE] = [POWERMEM_DEFAULT_TABLES[0], TARGET.table.env];

/**
 * The configuration with its memories table found on the server, as powermem finds it: when no table was
 * configured (OCEANBASE_COLLECTION, `table`, vector_store.config.collection_name), the one of `power_mem` and
 * `memories` that exists. Both present: refused (the user chooses). Neither: refused, naming both.
 * Ledger table names that were derived from the table name follow the table found. A configuration whose
 * table was configured is returned as it is.
 */
export async function discoverTable(knex: Knex, config: SparseVectorConfig, log?: Logger): Promise<SparseVectorConfig> {
  if (!config.tableDiscovery) return config;
  const [rows] = (await knex.raw(
    'SELECT TABLE_NAME AS name, DATABASE() AS db FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?)',
    [...POWERMEM_DEFAULT_TABLES],
  )) as [Array<{ name: string; db: string }>];
  const names = rows.map((r) => String(r.name));
  const found = POWERMEM_DEFAULT_TABLES.filter((t) => names.includes(t));
  const db = await databaseName(knex);
  if (found.length > 1) {
    throw new SparseVectorError(
      'TABLE_AMBIGUOUS',
      `${VARIABLE} is not set and database '${db}' has both '${POWERMEM_1_1}' (powermem 1.1's default table) and '${GUIDE_TABLE}' ` +
        '(older powermem and the migration guide). Nothing was changed.',
      {
        hint: `Choose the table your powermem uses: set ${VARIABLE}=${POWERMEM_1_1} or ${VARIABLE}=${GUIDE_TABLE} (or pass \`table\`).`,
      },
    );
  }
  if (found.length === 0) {
    throw new SparseVectorError(
      'TABLE_MISSING',
      `${VARIABLE} is not set and database '${db}' has neither '${POWERMEM_1_1}' (powermem 1.1's default table) nor '${GUIDE_TABLE}' ` +
        '(older powermem and the migration guide): looked for both.',
      {
        hint: 'Set OCEANBASE_COLLECTION to your memories table, or create the table first (powermem creates it on first use).',
      },
    );
  }
  const table = found[0];
  log?.info(discoveryNote(table));
  return withTable(config, table);
}

/** The line that says which table was found. */
export function discoveryNote(table: string): string {
  return `Using table '${table}' (${VARIABLE} is not set; looked for '${POWERMEM_1_1}' and '${GUIDE_TABLE}', found '${table}')`;
}

/** `config` for another table: ledger names derived from the table name follow it. */
export function withTable(config: SparseVectorConfig, table: string): SparseVectorConfig {
  const derived = config.tableDiscovery;
  return Object.freeze({
    ...config,
    table,
    migrationsTable: derived?.migrationsTableDerived
      ? ledgerTableFor(TARGET.migrationsTable.default, table)
      : config.migrationsTable,
    seedsTable: derived?.seedsTableDerived ? ledgerTableFor(TARGET.seedsTable.default, table) : config.seedsTable,
    tableDiscovery: undefined,
  });
}

async function databaseName(knex: Knex): Promise<string> {
  const [rows] = (await knex.raw('SELECT DATABASE() AS db')) as [Array<{ db: string | null }>];
  return String(rows[0]?.db ?? '');
}

/**
 * For tools that create a sample table when there is none (the demo, the examples): the table found as
 * discoverTable() finds it, or, when neither exists, the guide's `memories`.
 */
export async function discoverTableOrDefault(
  knex: Knex,
  config: SparseVectorConfig,
  log?: Logger,
): Promise<SparseVectorConfig> {
  try {
    return await discoverTable(knex, config, log);
  } catch (err) {
    if ((err as SparseVectorError).code !== 'TABLE_MISSING' || !config.tableDiscovery) throw err;
    return withTable(config, GUIDE_TABLE);
  }
}
