import type { Knex } from 'knex';
import { quoteIdentifier as q } from '../identifiers';

/** The backfill's name in the seeds ledger (the file in seeders/, without extension). */
export const BACKFILL_SEEDER = '20250601000100_backfill_sparse_vector';

export type SeedStatus = 'running' | 'incomplete' | 'done';

export interface SeedRecord {
  name: string;
  status: SeedStatus;
  runs: number;
  migrated: number;
  failed: number;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_error: string | null;
}

/**
 * The data-seeder ledger, separate from the schema migrations ledger: one row per seeder with its
 * status ("done" only when no eligible row was left), run count and the last run's figures.
 */
export class SeedLedger {
  constructor(readonly tableName: string) {}

  async ensureTable(knex: Knex): Promise<void> {
    await knex.raw(
      `CREATE TABLE IF NOT EXISTS ${q(this.tableName)} (` +
        'name VARCHAR(255) NOT NULL PRIMARY KEY, status VARCHAR(16) NOT NULL, runs INT NOT NULL DEFAULT 0, ' +
        'migrated BIGINT NOT NULL DEFAULT 0, failed BIGINT NOT NULL DEFAULT 0, ' +
        'last_started_at DATETIME NULL, last_finished_at DATETIME NULL, last_error TEXT NULL)',
    );
  }

  async get(knex: Knex, name: string): Promise<SeedRecord | undefined> {
    return (await this.all(knex)).find((r) => r.name === name);
  }

  async all(knex: Knex): Promise<SeedRecord[]> {
    if (!(await knex.schema.hasTable(this.tableName))) return [];
    const rows = (await knex(this.tableName).select('*').orderBy('name')) as SeedRecord[];
    // BIGINT counters arrive as strings (bigNumberStrings); they are far below 2^53.
    return rows.map((r) => ({ ...r, runs: Number(r.runs), migrated: Number(r.migrated), failed: Number(r.failed) }));
  }

  async start(knex: Knex, name: string): Promise<void> {
    await this.ensureTable(knex);
    await knex.raw(
      `INSERT INTO ${q(this.tableName)} (name, status, runs, last_started_at) VALUES (?, 'running', 1, NOW()) ` +
        `ON DUPLICATE KEY UPDATE status = IF(status = 'done', 'done', 'running'), runs = runs + 1, last_started_at = NOW()`,
      [name],
    );
  }

  /**
   * Forget that `name` is done (its vectors were deleted, e.g. the column was dropped by a downgrade).
   * Returns whether a 'done' record was changed.
   */
  async markNotDone(knex: Knex, name: string): Promise<boolean> {
    if (!(await knex.schema.hasTable(this.tableName))) return false;
    const changed = await knex(this.tableName).where({ name, status: 'done' }).update({ status: 'incomplete' });
    return Number(changed) > 0;
  }

  /**
   * Record the end of a run. `status` is either given, or `{ doneUnless }`: 'done' when no row matches that
   * condition at the moment of this write, else 'incomplete'. Evaluated in the UPDATE itself, so of several
   * shards finishing at about the same time, the last to write sees every other shard's rows written and
   * none can overwrite a later 'done' with a stale 'incomplete'.
   */
  async finish(
    knex: Knex,
    name: string,
    r: {
      status: SeedStatus | { doneUnless: { table: string; where: string; bindings: readonly unknown[] } };
      migrated: number;
      failed: number;
      error?: string;
    },
  ): Promise<void> {
    const status =
      typeof r.status === 'string'
        ? r.status
        : knex.raw(
            `IF(EXISTS(SELECT 1 FROM ${q(r.status.doneUnless.table)} WHERE ${r.status.doneUnless.where}), 'incomplete', 'done')`,
            [...r.status.doneUnless.bindings] as Knex.RawBinding[],
          );
    await knex(this.tableName)
      .where({ name })
      .update({
        status,
        migrated: r.migrated,
        failed: r.failed,
        last_finished_at: knex.raw('NOW()'),
        last_error: r.error ?? null,
      });
  }
}
