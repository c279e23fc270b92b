import type { Knex } from 'knex';
import type { SparseVectorConfig } from '../config/config';
import { SparseVectorError } from '../errors';
import { checkIdColumn } from '../schema/id-column';
import { openSchemaContext, readSchemaState, type SparseSchemaContext } from '../schema/sparse-schema';

/** Refuse (before anything is written) when the table is missing or the schema upgrade has not run. */
export async function checkBackfillTarget(knex: Knex, config: SparseVectorConfig): Promise<SparseSchemaContext> {
  const ctx = await openSchemaContext(knex, config);
  await assertUpgraded(ctx, config);
  await checkIdColumn(knex, ctx.target);
  return ctx;
}

async function assertUpgraded(ctx: SparseSchemaContext, config: SparseVectorConfig): Promise<void> {
  const state = await readSchemaState(ctx);
  if (!state.tableExists) {
    throw new SparseVectorError('TABLE_MISSING', `Table '${config.table}' does not exist.`, {
      hint: 'Set OCEANBASE_COLLECTION (or `table`) to the memories table.',
    });
  }
  if (!state.column?.expectedType) {
    throw new SparseVectorError(
      'SCHEMA_NOT_UPGRADED',
      `Table '${config.table}' has no ${ctx.dialect.columnType} column '${config.sparseColumn}' yet.`,
      {
        hint: 'Run the upgrade first: npx umzug up (or npx sparse-vector run upgrade-sparse-vector).',
      },
    );
  }
}
