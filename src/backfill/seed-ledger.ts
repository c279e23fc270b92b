import type { Knex } from 'knex';
import { quoteIdentifier as q } from '../identifiers';
import type { Checkpoint } from './checkpoint';

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
  /** The last run's keyset checkpoint (JSON, see CheckpointRecord); absent in ledgers made before it. */
  resume_checkpoint?: string | null;
}

/** A checkpoint as kept in the ledger: for one table and vector column. */
export interface CheckpointRecord extends Checkpoint {
  table: string;
  column: string;
}

/** Server error "Duplicate column name": another process added the column first. */
const ER_DUP_FIELDNAME = 1060;

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

  /**
   * The checkpoint column, added to a ledger made before it (idempotent: added only when absent; a
   * concurrent process adding it first is fine).
   */
  async ensureCheckpointColumn(knex: Knex): Promise<void> {
    if (await knex.schema.hasColumn(this.tableName, 'resume_checkpoint')) return;
    await knex
      .raw(`ALTER TABLE ${q(this.tableName)} ADD COLUMN resume_checkpoint VARCHAR(2048) NULL`)
      .catch((err: { errno?: number }) => {
        if (err.errno !== ER_DUP_FIELDNAME) throw err;
      });
  }

  /** Record the running run's checkpoint. */
  async saveCheckpoint(knex: Knex, name: string, c: CheckpointRecord): Promise<void> {
    await knex(this.tableName)
      .where({ name })
      .update({ resume_checkpoint: JSON.stringify(c) });
  }

  /** The checkpoint of `record` if it is one for this table and column (else undefined: not a hint here). */
  checkpointOf(record: SeedRecord | undefined, table: string, column: string): CheckpointRecord | undefined {
    if (!record?.resume_checkpoint) return undefined;
    try {
      const c = JSON.parse(record.resume_checkpoint) as CheckpointRecord;
      const ok = c.table === table && c.column === column && typeof c.after === 'string';
      return ok && Number.isFinite(c.remaining) && Number.isFinite(c.skipped) ? c : undefined;
    } catch {
      return undefined;
    }
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
    await this.ensureCheckpointColumn(knex);
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
    if (await knex.schema.hasColumn(this.tableName, 'resume_checkpoint'))
      await knex(this.tableName).where({ name }).update({ resume_checkpoint: null });
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
      /** The run reached the end: its checkpoint is cleared (a stopped or failed run keeps it). */
      clearCheckpoint?: boolean;
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
        ...(r.clearCheckpoint ? { resume_checkpoint: null } : {}),
      });
  }
}
