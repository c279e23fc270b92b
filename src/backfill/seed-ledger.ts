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
  /** The embedding space of the stored vectors (canonicalFingerprint); null/absent: not recorded (older ledger). */
  embedder_fingerprint?: string | null;
  /** A re-embed in progress: the embedding space it rewrites the vectors into (see reembed.ts). */
  reembed_to?: string | null;
  /** A re-embed in progress: the last id rewritten and committed (its checkpoint; null: none yet). */
  reembed_after?: string | null;
}

/** The columns of the embedding space and the re-embed (added after the first versions of the ledger). */
const EMBEDDING_SPACE_COLUMNS: ReadonlyArray<[string, string]> = [
  ['embedder_fingerprint', 'TEXT NULL'],
  ['reembed_to', 'TEXT NULL'],
  ['reembed_after', 'VARCHAR(255) NULL'],
];

/**
 * Upgrade a ledger created by an older version: add the embedding-space columns that are missing.
 * Idempotent; a column added meanwhile by a concurrent run (duplicate column, 1060) is fine.
 */
export async function addEmbeddingSpaceColumns(knex: Knex, tableName: string): Promise<void> {
  const [rows] = (await knex.raw(
    'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [tableName],
  )) as [Array<{ name: string }>];
  const present = new Set(rows.map((r) => String(r.name).toLowerCase()));
  for (const [column, type] of EMBEDDING_SPACE_COLUMNS) {
    if (present.has(column)) continue;
    await knex.raw(`ALTER TABLE ${q(tableName)} ADD COLUMN ${q(column)} ${type}`).catch((err: { errno?: number }) => {
      if (err.errno !== 1060) throw err;
    });
  }
}

/** A checkpoint as kept in the ledger: for one table and vector column. */
export interface CheckpointRecord extends Checkpoint {
  table: string;
  column: string;
}

/** Server error "Duplicate column name": another process added the column first. */
const ER_DUP_FIELDNAME = 1060;
/** The longest last_error kept (characters; up to 4 bytes each, within TEXT's 65,535 bytes). */
const LAST_ERROR_CHARS = 10_000;

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
    await addEmbeddingSpaceColumns(knex, this.tableName);
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

  /**
   * Record the start of a run. With `space`: in the same transaction, with the record locked, `space.check`
   * sees it (and may throw: the transaction is rolled back, nothing is changed), and `space.fingerprint` (if given) is recorded if none was.
   */
  async start(
    knex: Knex,
    name: string,
    space?: { fingerprint?: string; check(record: SeedRecord | undefined): void },
  ): Promise<void> {
    await this.ensureTable(knex);
    await this.ensureCheckpointColumn(knex);
    await knex.transaction(async (trx) => {
      // The upsert first: it locks the row (a SELECT … FOR UPDATE of a missing row takes a gap lock, and
      // two runs starting together would deadlock on their inserts). A refusal rolls it back.
      await trx.raw(
        `INSERT INTO ${q(this.tableName)} (name, status, runs, last_started_at) VALUES (?, 'running', 1, NOW()) ` +
          `ON DUPLICATE KEY UPDATE status = IF(status = 'done', 'done', 'running'), runs = runs + 1, last_started_at = NOW()`,
        [name],
      );
      if (!space) return;
      const [rows] = (await trx.raw(`SELECT * FROM ${q(this.tableName)} WHERE name = ?`, [name])) as [SeedRecord[]];
      space.check(rows[0]);
      if (space.fingerprint)
        await trx.raw(
          `UPDATE ${q(this.tableName)} SET embedder_fingerprint = COALESCE(embedder_fingerprint, ?) WHERE name = ?`,
          [space.fingerprint, name],
        );
    });
  }

  /** A re-embed into `to` begins (or goes on, keeping its checkpoint). */
  async beginReembed(knex: Knex, name: string, to: string): Promise<void> {
    await knex(this.tableName)
      .where({ name })
      .update({ reembed_to: to, reembed_after: knex.raw('IF(reembed_to <=> ?, reembed_after, NULL)', [to]) });
  }

  /** The re-embed's checkpoint: every row up to `afterId` is rewritten (in the transaction of that write). */
  async reembedCheckpoint(trx: Knex, name: string, afterId: string): Promise<void> {
    await trx(this.tableName).where({ name }).update({ reembed_after: afterId });
  }

  /** The re-embed is complete: the recorded space becomes the new one. */
  async completeReembed(knex: Knex, name: string, to: string): Promise<void> {
    await knex(this.tableName)
      .where({ name, reembed_to: to })
      .update({ embedder_fingerprint: to, reembed_to: null, reembed_after: null });
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
    // The vectors are deleted: so is their embedding space (the next backfill records its own).
    await this.forgetSpace(knex, name);
    return Number(changed) > 0;
  }

  /**
   * Forget the recorded embedding space (no vector of it is stored). `unless`: only if the record still holds
   * that fingerprint and run count (no run started since it was read). False when nothing was forgotten.
   */
  async forgetSpace(knex: Knex, name: string, unless?: { fingerprint: string; runs: number }): Promise<boolean> {
    if (!(await knex.schema.hasColumn(this.tableName, 'embedder_fingerprint'))) return false;
    const row = knex(this.tableName).where({ name });
    if (unless) row.andWhere({ embedder_fingerprint: unless.fingerprint, runs: unless.runs });
    const changed = await row.update({ embedder_fingerprint: null, reembed_to: null, reembed_after: null });
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
        // TEXT holds 65,535 bytes: a longer message would fail the ledger's write, and so the run's end.
        last_error: r.error === undefined ? null : r.error.slice(0, LAST_ERROR_CHARS),
        ...(r.clearCheckpoint ? { resume_checkpoint: null } : {}),
      });
  }
}
