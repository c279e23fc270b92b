import type { Knex } from 'knex';
import type { UmzugStorage } from 'umzug';
import { quoteIdentifier as q } from '../identifiers';
import { failpoint } from '../util/failpoint';

/**
 * The migrations ledger, in knex's own format (`<table>`: id, name, batch, migration_time, and
 * `<table>_lock`: index, is_locked), so that Umzug (through this storage) and `knex migrate:*` read and
 * write the same rows: apply with one, the other sees it applied.
 */
export class KnexLedgerStorage implements UmzugStorage<Knex> {
  private runBatch: number | undefined;
  private guard: () => Promise<void> = async () => undefined;

  /** The table can change once, when the memories table is found on the server (see createSparseMigrator). */
  constructor(public tableName: string) {}

  get lockTableName(): string {
    return `${this.tableName}_lock`;
  }

  /**
   * Start a new batch: every migration logged until the next call shares one batch number, as in knex.
   * `guard` runs before every ledger write (it throws when the run's lock was lost).
   */
  startRun(guard?: () => Promise<void>): void {
    this.runBatch = undefined;
    this.guard = guard ?? (async () => undefined);
  }

  /** Create the ledger tables exactly as knex would (safe to call again). */
  async ensureTables(knex: Knex): Promise<void> {
    if (!(await knex.schema.hasTable(this.tableName))) {
      await knex.schema.createTable(this.tableName, (t) => {
        t.increments();
        t.string('name');
        t.integer('batch');
        t.timestamp('migration_time');
      });
    }
    if (!(await knex.schema.hasTable(this.lockTableName))) {
      await knex.schema.createTable(this.lockTableName, (t) => {
        t.increments('index').primary();
        t.integer('is_locked');
      });
    }
    const [rows] = (await knex.raw(`SELECT COUNT(*) AS n FROM ${q(this.lockTableName)}`)) as [
      Array<{ n: number | string }>,
    ];
    if (Number(rows[0]?.n ?? 0) === 0) await knex(this.lockTableName).insert({ is_locked: 0 });
  }

  async executed({ context: knex }: { context: Knex }): Promise<string[]> {
    if (!(await knex.schema.hasTable(this.tableName))) return [];
    const rows = (await knex(this.tableName).select('name').orderBy('id', 'asc')) as Array<{ name: string }>;
    return [...new Set(rows.map((r) => r.name))];
  }

  async logMigration({ name, context: knex }: { name: string; context: Knex }): Promise<void> {
    await this.ensureTables(knex);
    if (this.runBatch === undefined) {
      const row = await knex(this.tableName).max({ b: 'batch' }).first();
      this.runBatch = Number(row?.b ?? 0) + 1;
    }
    await failpoint('ledger:before-insert');
    await this.guard();
    // One row per migration, as knex keeps it: a rerun (`umzug up --name X --rerun ALLOW`) moves the
    // existing row to this batch instead of adding a second one that `knex migrate:status` would list twice.
    const moved = await knex(this.tableName)
      .where({ name })
      .update({ batch: this.runBatch, migration_time: new Date() });
    if (Number(moved) === 0)
      await knex(this.tableName).insert({ name, batch: this.runBatch, migration_time: new Date() });
    else if (Number(moved) > 1) await this.dropDuplicates(knex, name);
  }

  /** Rows written twice by an earlier version: keep the first. */
  private async dropDuplicates(knex: Knex, name: string): Promise<void> {
    const first = await knex(this.tableName).where({ name }).min({ id: 'id' }).first();
    await knex(this.tableName).where({ name }).andWhere('id', '>', Number(first?.id)).delete();
  }

  async unlogMigration({ name, context: knex }: { name: string; context: Knex }): Promise<void> {
    if (!(await knex.schema.hasTable(this.tableName))) return;
    await this.guard();
    await knex(this.tableName).where({ name }).delete();
  }

  /** Rows of the ledger, for status output. */
  async rows(knex: Knex): Promise<Array<{ name: string; batch: number; migration_time: string }>> {
    if (!(await knex.schema.hasTable(this.tableName))) return [];
    return knex(this.tableName).select('name', 'batch', 'migration_time').orderBy('id', 'asc');
  }

  /**
   * knex's own lock row stays set when a knex run crashes, and every later knex run then fails with
   * "Migration table is already locked". Callers that hold our advisory lock know no migration is running,
   * so they may clear it.
   */
  async clearStaleKnexLock(knex: Knex): Promise<boolean> {
    if (!(await knex.schema.hasTable(this.lockTableName))) return false;
    const n = await knex(this.lockTableName).where({ is_locked: 1 }).update({ is_locked: 0 });
    return Number(n) > 0;
  }
}
