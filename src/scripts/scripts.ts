import { runSeeder, assertSeederSucceeded, parseShard } from '../backfill';
import { countEligible } from '../backfill/reader';
import { createKnex } from '../db/knex';
import { requireConnection } from '../config/config';
import { SvmError } from '../errors';
import { quoteIdentifier as q } from '../identifiers';
import { createSparseMigrator } from '../migrator/umzug';
import { tableExists, columnInfo } from '../schema/inspect';
import { targetOf } from '../schema/sparse-schema';
import type { ScriptDefinition } from './registry';

const upgrade: ScriptDefinition = {
  name: 'upgrade-sparse-vector',
  category: 'upgrade',
  description: 'Add sparse vector support to OceanBase table (add sparse_embedding column and index)',
  parameters: [],
  async run(_params, ctx) {
    const m = createSparseMigrator({ config: ctx.config, logger: ctx.logger });
    try {
      const applied = await m.umzug.up();
      if (!applied.length) ctx.logger.info(`Sparse vector support is already in place for table '${ctx.config.table}' (nothing pending)`);
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
  parameters: [
    { name: 'batch_size', type: 'int', default: 100, required: false, description: 'Number of records processed per batch', range: { min: 1, max: 10_000 } },
    { name: 'workers', type: 'int', default: 1, required: false, description: 'Number of concurrent workers', range: { min: 1, max: 64 } },
    { name: 'delay', type: 'float', default: 0.1, required: false, description: 'Delay between batches of a worker (seconds)', range: { min: 0, max: 3600 } },
    { name: 'dry_run', type: 'bool', default: false, required: false, description: 'Test mode: only processes 100 records (or limit) and does not write to the database' },
    { name: 'limit', type: 'int', required: false, description: 'Stop after this many records (dry run: records to test)', range: { min: 1, max: Number.MAX_SAFE_INTEGER } },
    { name: 'shard', type: 'string', required: false, description: 'i/n: process only shard i of n' },
    { name: 'rerun', type: 'bool', default: false, required: false, description: 'Run even if the seeder ledger says the backfill is done' },
    { name: 'failures_file', type: 'string', required: false, description: 'Append failed rows as JSON lines to this file' },
  ],
  async run(p, ctx) {
    const dryRun = p.dry_run === true;
    const limit = p.limit as number | undefined;
    const result = await runSeeder({
      config: ctx.config,
      logger: ctx.logger,
      out: ctx.out,
      batchSize: p.batch_size as number,
      workers: p.workers as number,
      delaySeconds: p.delay as number,
      dryRun,
      dryRunLimit: dryRun ? limit : undefined,
      limit: dryRun ? undefined : limit,
      shard: parseShard(p.shard as string | undefined),
      rerun: p.rerun === true,
      failuresFile: p.failures_file as string | undefined,
      signal: ctx.signal,
    });
    if (result.skippedReason === 'busy') throw new SvmError('LOCK_TIMEOUT', 'Another backfill run is already working on this table.');
    assertSeederSucceeded(result);
    return result;
  },
};

const downgrade: ScriptDefinition = {
  name: 'downgrade-sparse-vector',
  category: 'downgrade',
  description: 'Remove sparse vector support from OceanBase table (Warning: will delete all sparse vector data)',
  parameters: [{ name: 'yes', type: 'bool', default: false, required: false, description: 'Confirm the deletion without asking (required when not on a terminal)' }],
  async run(p, ctx) {
    const { config } = ctx;
    const knex = createKnex(requireConnection(config), { pool: 1 });
    let vectors = 0;
    try {
      if ((await tableExists(knex, config.table)) && (await columnInfo(knex, config.table, config.sparseColumn))) {
        const [rows] = (await knex.raw(`SELECT COUNT(*) AS n FROM ${q(config.table)} WHERE ${q(config.sparseColumn)} IS NOT NULL`)) as [Array<{ n: unknown }>];
        vectors = Number(rows[0].n);
        const left = await countEligible(knex, targetOf(config));
        ctx.logger.info(`This will permanently delete ${vectors} sparse vectors from table '${config.table}' (${left} rows have none yet) and drop ${config.sparseIndex} and ${config.sparseColumn}.`);
      }
    } finally {
      await knex.destroy();
    }
    if (p.yes !== true) {
      if (!ctx.confirm) {
        throw new SvmError('CONFIRMATION_REQUIRED', `Refusing to delete ${vectors} sparse vectors without confirmation: not running on a terminal.`, {
          hint: 'Run again with --yes to confirm.',
        });
      }
      if (!(await ctx.confirm('Confirm to continue? (yes/no) '))) {
        throw new SvmError('CONFIRMATION_REQUIRED', 'Downgrade cancelled: nothing was changed.');
      }
    }
    const m = createSparseMigrator({ config, logger: ctx.logger });
    try {
      const reverted = await m.umzug.down({ to: 0 });
      if (!reverted.length) ctx.logger.info('The sparse vector migration is not applied: nothing to downgrade');
      return { reverted: reverted.map((x) => x.name), deletedVectors: reverted.length ? vectors : 0 };
    } finally {
      await m.close();
    }
  },
};

/** Every script, in the order `list` shows them. */
export const SCRIPTS: readonly ScriptDefinition[] = [upgrade, migrate, downgrade];
