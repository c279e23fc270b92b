import type { Knex } from 'knex';
import { requireConnection, type SparseVectorConfig } from '../config/config';
import { lockName, withLock } from '../db/lock';
import { withBackfillExcluded } from '../backfill/schema-guard';
import { downgradeSparseSchema, openSchemaContext } from '../schema/sparse-schema';
import type { Logger } from '../util/logger';
import { runSeeder, assertSeederSucceeded, withLimitRule } from '../backfill';
import { CONFIRM, MIGRATE_PARAMS } from '../options/table';
import { SparseVectorError } from '../errors';
import { quoteIdentifier as q } from '../identifiers';
import { createSparseMigrator } from '../migrator/umzug';
import { columnInfo, indexExists, tableExists } from '../schema/inspect';
import { scriptParameter, type ScriptDefinition } from './registry';

const upgrade: ScriptDefinition = {
  name: 'upgrade-sparse-vector',
  category: 'upgrade',
  description: 'Add sparse vector support to OceanBase table (add sparse_embedding column and index)',
  parameters: [],
  async run(_params, ctx) {
    const m = createSparseMigrator({ config: ctx.config, logger: ctx.logger });
    try {
      const applied = await m.umzug.up();
      if (!applied.length)
        ctx.logger.info(
          `Sparse vector support is already in place for table '${(await m.config()).table}' (nothing pending)`,
        );
      return { applied: applied.map((x) => x.name) };
    } finally {
      await m.close();
    }
  },
};

const migrate: ScriptDefinition = {
  name: 'migrate-sparse-vector',
  category: 'migration',
  description: 'Migrate historical data to add sparse vector embeddings',
  parameters: MIGRATE_PARAMS.map(scriptParameter),
  async run(p, ctx) {
    // The parameters carry the backfill's API names (options/table.ts); the dry-run/limit rule is the backfill's.
    const options = withLimitRule(Object.fromEntries(MIGRATE_PARAMS.map((o) => [o.name, p[o.param!]])));
    const result = await runSeeder({
      ...options,
      config: ctx.config,
      embedder: ctx.embedder,
      logger: ctx.logger,
      out: ctx.out,
      signal: ctx.signal,
    });
    if (result.skippedReason === 'busy')
      throw new SparseVectorError('LOCK_TIMEOUT', 'Another backfill run is already working on this table.');
    assertSeederSucceeded(result);
    return result;
  },
};

const downgrade: ScriptDefinition = {
  name: 'downgrade-sparse-vector',
  category: 'downgrade',
  description: 'Remove sparse vector support from OceanBase table (Warning: will delete all sparse vector data)',
  parameters: [scriptParameter(CONFIRM.yes)],
  /**
   * Reverts the migrations through the migrator (same ledger and lock as `npx umzug down --to 0`), after
   * saying how many vectors that deletes and getting a confirmation: a yes on the terminal, or yes: true
   * (--yes). Without either nothing is changed.
   */
  async run(p, ctx) {
    const { logger } = ctx;
    const m = createSparseMigrator({ config: ctx.config, logger });
    try {
      const knex = await m.knex();
      const config = await m.config();
      const applied = (await m.umzug.executed()).map((x) => x.name);
      const hasTable = await tableExists(knex, config.table);
      const hasColumn = hasTable && !!(await columnInfo(knex, config.table, config.sparseColumn));
      if (!applied.length && !hasColumn) {
        logger.info(
          `Sparse vector support is not installed on table '${config.table}' (no migration applied): nothing to downgrade`,
        );
        return { reverted: [], deletedVectors: 0 };
      }
      let vectors = 0;
      if (hasColumn) {
        const [rows] = (await knex.raw(
          `SELECT COUNT(*) AS n FROM ${q(config.table)} WHERE ${q(config.sparseColumn)} IS NOT NULL`,
        )) as [Array<{ n: unknown }>];
        vectors = Number(rows[0].n);
      }
      const hasIndex = hasTable && (await indexExists(knex, config.table, config.sparseIndex));
      logger.info(
        `This will permanently delete ${vectors} sparse vectors from table '${config.table}' ` +
          `(it drops the ${config.sparseColumn} column${hasIndex ? ` and the ${config.sparseIndex} index` : ''}; ` +
          `${applied.length ? `reverts: ${applied.join(', ')}` : `the upgrade was made outside this tool: '${config.migrationsTable}' does not record it`}).`,
      );
      if (p.yes !== true) await confirmDeletion(vectors, ctx.confirm);
      // The migration's down marks the backfill seeder not done, under the backfill lock (see schema-guard);
      // a table upgraded elsewhere (no ledger entry) gets the same steps without the migrator.
      const reverted = applied.length ? (await m.umzug.down({ to: 0 })).map((x) => x.name) : [];
      if (!applied.length) await downgradeUnrecorded(knex, config, logger);
      return { reverted, deletedVectors: vectors };
    } finally {
      await m.close();
    }
  },
};

/** Ask before deleting vectors; refuse when there is no terminal to ask on, or the answer is not yes. */
async function confirmDeletion(
  vectors: number,
  confirm: ((question: string) => Promise<boolean>) | undefined,
): Promise<void> {
  if (!confirm) {
    throw new SparseVectorError(
      'CONFIRMATION_REQUIRED',
      `Refusing to delete ${vectors} sparse vectors without confirmation: not running on a terminal.`,
      { hint: 'Run again with --yes to confirm.' },
    );
  }
  if (!(await confirm('Confirm to continue? (yes/no) '))) {
    throw new SparseVectorError('CONFIRMATION_REQUIRED', 'Downgrade cancelled: nothing was changed.', {
      hint: 'To delete them, run it again and answer yes, or run it with --yes.',
    });
  }
}

/**
 * A table upgraded by powermem's script or by hand (no ledger entry): the same schema downgrade the migration
 * runs, under the same lock, with nothing to unlog.
 */
async function downgradeUnrecorded(knex: Knex, config: SparseVectorConfig, logger: Logger): Promise<void> {
  const connection = requireConnection(config);
  await withLock(
    connection,
    lockName('migrate', connection.database, config.table),
    { timeoutSeconds: config.lockTimeoutSeconds },
    async () => {
      const ctx = await openSchemaContext(knex, config);
      await withBackfillExcluded(knex, config, logger, () => downgradeSparseSchema(ctx, logger));
    },
  );
}

/** Every script, in the order `list` shows them. */
export const SCRIPTS: readonly ScriptDefinition[] = [upgrade, migrate, downgrade];
