import type { Knex } from 'knex';
import type { SparseVectorConfig } from '../config/config';
import { SparseVectorError } from '../errors';
import { detectServer } from '../db/server-info';
import { discoverTable } from '../config/table-discovery';
import type { IndexForm, SparseDialect, SparseTarget } from '../dialect/dialect';
import { selectDialect } from '../dialect/select-dialect';
import type { Logger } from '../util/logger';
import { failpoint } from '../util/failpoint';
import { columnInfo, currentDatabase, indexExists, tableExists } from './inspect';

/** The target table and the dialect for the server the knex instance talks to. */
export interface SparseSchemaContext {
  knex: Knex;
  dialect: SparseDialect;
  target: SparseTarget;
}

export function targetOf(config: SparseVectorConfig): SparseTarget {
  return {
    table: config.table,
    idColumn: config.idColumn,
    textColumn: config.textColumn,
    sparseColumn: config.sparseColumn,
    sparseIndex: config.sparseIndex,
  };
}

/**
 * Detect the server and choose the dialect (throws UNSUPPORTED_SERVER before anything changes). A config
 * without a configured table gets powermem's (see discoverTable).
 */
export async function openSchemaContext(knex: Knex, config: SparseVectorConfig): Promise<SparseSchemaContext> {
  config = await discoverTable(knex, config);
  const server = await detectServer(knex);
  const dialect = selectDialect(server, config.storage, config.indexParams);
  return { knex, dialect, target: targetOf(config) };
}

export interface SchemaState {
  tableExists: boolean;
  column?: { dataType: string; columnType: string; expectedType: boolean };
  indexExists: boolean;
  /** Column of the right type and, where the dialect has one, the index. */
  upgraded: boolean;
}

export async function readSchemaState(ctx: SparseSchemaContext): Promise<SchemaState> {
  const { knex, dialect, target } = ctx;
  if (!(await tableExists(knex, target.table))) return { tableExists: false, indexExists: false, upgraded: false };
  const col = await columnInfo(knex, target.table, target.sparseColumn);
  const idx = await indexExists(knex, target.table, target.sparseIndex);
  const column = col && {
    dataType: col.dataType,
    columnType: col.columnType,
    expectedType: dialect.isExpectedColumnType(col.dataType, col.columnType),
  };
  return {
    tableExists: true,
    column,
    indexExists: idx,
    upgraded: !!column?.expectedType && (idx || !dialect.hasIndex),
  };
}

/** Check the table and its columns before any DDL, so bad input leaves the database as it was. */
async function checkTable(ctx: SparseSchemaContext): Promise<SchemaState> {
  const { knex, target, dialect } = ctx;
  const state = await readSchemaState(ctx);
  if (!state.tableExists) {
    const db = await currentDatabase(knex);
    throw new SparseVectorError('TABLE_MISSING', `Table '${target.table}' does not exist in database '${db}'.`, {
      hint: 'Create the memories table first (powermem creates it on first use), or set OCEANBASE_COLLECTION to the right table.',
    });
  }
  for (const [col, what, variable] of [
    [target.idColumn, 'id column', 'SPARSE_ID_FIELD'],
    [target.textColumn, 'text column', 'OCEANBASE_TEXT_FIELD'],
  ] as const) {
    if (!(await columnInfo(knex, target.table, col))) {
      throw new SparseVectorError('COLUMN_MISSING', `Table '${target.table}' has no ${what} '${col}'.`, {
        hint: `Set ${variable} to the name of the table's ${what}.`,
      });
    }
  }
  if (state.column && !state.column.expectedType) {
    throw new SparseVectorError(
      'COLUMN_TYPE_MISMATCH',
      `Table '${target.table}' already has a column '${target.sparseColumn}' of type ${state.column.columnType}, ` +
        `but ${dialect.name} storage needs ${dialect.columnType}. Nothing was changed.`,
      {
        hint: `Rename or drop that column, or choose the matching storage (SPARSE_VECTOR_STORAGE=${dialect.name === 'portable-json' ? 'native' : 'json'}).`,
      },
    );
  }
  return state;
}

const ER_DUP_FIELDNAME = 1060;
const ER_DUP_KEYNAME = 1061;
const ER_CANT_DROP_FIELD_OR_KEY = 1091;

function errno(err: unknown): number | undefined {
  return (err as { errno?: number } | undefined)?.errno;
}

export interface UpgradeReport {
  dialect: SparseDialect['name'];
  columnAdded: boolean;
  indexCreated: boolean;
  /** The index DDL form the server accepted (see SparseDialect.indexForms). */
  indexForm?: IndexForm;
  statements: string[];
}

/** A statement the server answered with an error (not a lost connection): worth trying another form. */
export function isServerRejection(err: unknown): boolean {
  const e = err as { errno?: number; fatal?: boolean } | undefined;
  return typeof e?.errno === 'number' && e.fatal !== true;
}

/**
 * Create the index with the first form the server accepts (the configured parameters, then each known form),
 * saying which one was used. Undefined when a concurrent run created it first. Every form rejected: an error
 * listing each form with the server's own message.
 */
export async function createIndex(
  ctx: SparseSchemaContext,
  indexSql: string,
  log: Logger,
): Promise<IndexForm | undefined> {
  const { knex, dialect, target } = ctx;
  const forms = dialect.indexForms?.(target) ?? [{ params: '', source: `${dialect.name} dialect`, sql: indexSql }];
  const rejected: string[] = [];
  for (const [i, form] of forms.entries()) {
    log.debug(form.sql);
    try {
      await knex.raw(form.sql);
      if (form.params) log.info(`Index created with WITH (${form.params}), from: ${form.source}`);
      return form;
    } catch (err) {
      if (errno(err) === ER_DUP_KEYNAME) return undefined;
      if (!isServerRejection(err)) throw err;
      rejected.push(`${form.sql} -> ${(err as Error).message}`);
      const next = forms[i + 1];
      if (next)
        log.warn(
          `The server rejected WITH (${form.params}) (${form.source}): ${(err as Error).message}; trying WITH (${next.params}) (${next.source})`,
        );
    }
  }
  throw new SparseVectorError(
    'INDEX_DDL_REJECTED',
    `The server rejected every known form of the sparse vector index DDL:\n  ${rejected.join('\n  ')}`,
    {
      hint: 'Set SPARSE_VECTOR_INDEX_PARAMS to the WITH (...) parameters your server accepts (see docs/oceanbase.md); `npx sparse-vector doctor` shows what the server supports.',
    },
  );
}

/**
 * Add the sparse column and its index. Idempotent: each step checks information_schema first, so a
 * half-done upgrade (column without index) is completed, and a concurrent run's "duplicate" error is
 * taken as done. MySQL-family DDL commits implicitly, which is why each step must be safe to repeat.
 */
export async function upgradeSparseSchema(ctx: SparseSchemaContext, log: Logger): Promise<UpgradeReport> {
  const { knex, dialect, target } = ctx;
  log.info(`Starting sparse vector upgrade for table '${target.table}'`);
  const state = await checkTable(ctx);
  const report: UpgradeReport = { dialect: dialect.name, columnAdded: false, indexCreated: false, statements: [] };

  if (state.column) {
    log.info(`${target.sparseColumn} column already exists on table '${target.table}'`);
  } else {
    log.info(`Adding ${target.sparseColumn} column to table '${target.table}'`);
    const sql = dialect.addColumnSql(target);
    log.debug(sql);
    try {
      await knex.raw(sql);
      report.columnAdded = true;
      report.statements.push(sql);
    } catch (err) {
      if (errno(err) !== ER_DUP_FIELDNAME) throw err;
    }
    log.info(`${target.sparseColumn} column added successfully`);
  }
  await failpoint('upgrade:after-add-column');

  const indexSql = dialect.createIndexSql(target);
  if (!indexSql) {
    log.info(
      `Portable ${dialect.columnType} storage has no sparse vector index; search scans the embedded rows exactly`,
    );
  } else if (state.indexExists) {
    log.info(`${target.sparseIndex} already exists on table '${target.table}'`);
  } else {
    log.info(`Creating sparse vector index on table '${target.table}'`);
    const used = await createIndex(ctx, indexSql, log);
    if (used) {
      report.indexCreated = true;
      report.statements.push(used.sql);
      report.indexForm = used;
    }
    log.info(`${target.sparseIndex} created successfully`);
  }
  if (!report.statements.length && state.column) {
    log.info(`Table '${target.table}' was already upgraded (by powermem's script or by hand): recorded without DDL`);
  }
  log.info(`Sparse vector upgrade completed successfully for table '${target.table}'`);
  await failpoint('upgrade:before-ledger');
  return report;
}

export interface DowngradeReport {
  indexDropped: boolean;
  columnDropped: boolean;
  statements: string[];
}

/** Drop the index, then the column. Idempotent and tolerant of a half-done state or a missing table. */
export async function downgradeSparseSchema(ctx: SparseSchemaContext, log: Logger): Promise<DowngradeReport> {
  const { knex, dialect, target } = ctx;
  const report: DowngradeReport = { indexDropped: false, columnDropped: false, statements: [] };
  log.info(`Starting sparse vector downgrade for table '${target.table}'`);
  if (!(await tableExists(knex, target.table))) {
    log.info(`Table '${target.table}' does not exist; nothing to remove`);
    return report;
  }
  if (await indexExists(knex, target.table, target.sparseIndex)) {
    const sql = dialect.dropIndexSql(target);
    log.info(`Dropping ${target.sparseIndex} from table '${target.table}'`);
    await tolerate(knex.raw(sql), ER_CANT_DROP_FIELD_OR_KEY);
    report.indexDropped = true;
    report.statements.push(sql);
  }
  await failpoint('downgrade:before-drop-column');
  if (await columnInfo(knex, target.table, target.sparseColumn)) {
    const sql = dialect.dropColumnSql(target);
    log.info(`Dropping ${target.sparseColumn} column from table '${target.table}'`);
    await tolerate(knex.raw(sql), ER_CANT_DROP_FIELD_OR_KEY);
    report.columnDropped = true;
    report.statements.push(sql);
  }
  log.info(`Sparse vector downgrade completed for table '${target.table}'`);
  return report;
}

async function tolerate(p: PromiseLike<unknown>, code: number): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (errno(err) !== code) throw err;
  }
}
