import { runSeeder } from '../../src/backfill';
import { checkTable, portableConfig, resetBackfill, upgrade, waitUntil } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/*
 * A lost connection during the backfill, in process (no compiled CLI), so that the mutation run
 * (`npm run mutate`, which mutates src/ and never reaches dist/) sees it. The migration's lost connection is in
 * crashes.test.ts (it runs `npx umzug up`).
 */

async function lockFree(db: TestDatabase): Promise<boolean> {
  const [rows] = await db.knex.raw('SELECT IS_FREE_LOCK(?) AS free', [`sparse-vector:seed:${db.name}.memories`]);
  return rows[0].free === 1;
}

describe('lost connection: the server kills the connection of a backfill write', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('killwrite');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 1500, emptyRate: 0 });
  });
  afterAll(async () => db.drop());

  test('mid-backfill (the tracked seeder): the connection of the first write is killed, the write is retried on a new one, the run ends done', async () => {
    await upgrade(db);
    await resetBackfill(db);
    // The test holds a lock on every row, so the run's first UPDATE waits on the server where the test can
    // see it; the test kills that connection, then lets go of the rows.
    const trx = await db.knex.transaction();
    let killed: number | undefined;
    try {
      await trx.raw('SELECT id FROM memories FOR UPDATE');
      const running = runSeeder({
        config: portableConfig(db),
        workers: 1,
        batchSize: 25,
        delaySeconds: 0,
        progress: 'none',
      });
      const waitingWrite = async (): Promise<number | undefined> => {
        const [rows] = await db.knex.raw(
          "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'UPDATE %'",
          [db.name],
        );
        return rows.length ? Number(rows[0].id) : undefined;
      };
      await waitUntil(async () => (killed = await waitingWrite()) !== undefined);
      const [[holder]] = await db.knex.raw('SELECT IS_USED_LOCK(?) AS id', [`sparse-vector:seed:${db.name}.memories`]);
      expect(holder.id).not.toBeNull(); // the seeder holds its lock while it runs
      await db.knex.raw(`KILL CONNECTION ${killed}`);
      await trx.rollback();
      const summary = await running;
      // The write that lost its connection was made again: no run error, every row written in this run.
      expect(summary.error).toBeUndefined();
      expect(summary).toMatchObject({ ok: true, remaining: 0, failed: 0 });
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
    const [gone] = await db.knex.raw('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [killed!]);
    expect(gone).toEqual([]); // the connection really was killed
    expect(await lockFree(db)).toBe(true);
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
    expect((await db.knex('sparse_vector_seeds').first('status')).status).toBe('done');
  });
});
