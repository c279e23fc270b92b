import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedLockName } from '../../src/backfill/schema-guard';
import { downgradeLockName, shardSlotName } from '../../src/backfill/shard-presence';
import { BACKFILL_SEEDER, SeedLedger } from '../../src/backfill/seed-ledger';
import { columnInfo } from '../../src/schema/inspect';
import { createSparseMigrator } from '../../src/migrator/umzug';
import { portableConfig, upgrade, watchedLogger } from '../support/backfill';
import { collect, ROOT, startAt, umzug } from '../support/cli';
import { OutputWatch } from '../support/output-watch';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/**
 * Schema changes and the backfill exclude each other: `down` waits for (up to SPARSE_LOCK_TIMEOUT) or
 * refuses a running backfill of the table, sharded or not; a shard does not start while a downgrade holds the
 * table.
 */
const MIGRATION = '20250601000000_add_sparse_vector';

describe('schema changes and the backfill exclude each other', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    db = await createTestDatabase('exclusion');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 100, emptyRate: 0 });
    await upgrade(db);
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json', OCEANBASE_COLLECTION: 'memories', SPARSE_BACKFILL_DELAY: '0' });
  });
  afterEach(async () => db.drop());

  const hasColumn = async () => !!(await columnInfo(db.knex, 'memories', 'sparse_embedding'));
  const applied = async () =>
    (await db.knex('sparse_vector_migrations').select('name')).map((r: { name: string }) => r.name);
  /** `npx umzug down` started; `printed(pattern)`: the first match in its output (see OutputWatch). */
  function startDown() {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'umzug.js'), 'down'], {
      env: { ...env, SPARSE_LOCK_TIMEOUT: '120' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const done = collect(child, 60_000);
    const out = new OutputWatch();
    child.stdout.on('data', (d) => out.add(String(d)));
    const printed = (pattern: RegExp) => out.printed(pattern, done);
    return { child, done, printed };
  }
  /** `npx umzug down` with a long lock timeout, once it says `waiting` (then held, waiting); `done` is its end. */
  async function downWaiting(waiting: string) {
    const down = startDown();
    await down.printed(new RegExp(waiting.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    return { done: down.done };
  }

  test('down while a backfill runs: refused after the lock timeout (nothing changed), then waits for it to end', async () => {
    const seed = startAt(
      'backfill:before-write',
      ['seed', '--workers', '1', '--batch-size', '20', '--progress', 'none'],
      env,
    );
    await seed.reached;
    // A short timeout: refused, schema and ledgers as they were.
    const refused = await umzug(['down'], { ...env, SPARSE_LOCK_TIMEOUT: '1' });
    expect(refused.stderr.split('\n')[0]).toBe(
      "Error [BACKFILL_RUNNING]: A backfill of table 'memories' is running; waited 1 s for it to end. Nothing was changed.",
    );
    expect(refused.code).toBe(1);
    expect(await hasColumn()).toBe(true);
    expect(await applied()).toEqual([MIGRATION]);
    // A long one: down says it waits, and goes on once the backfill has ended (here: killed at the failpoint).
    const { done: down } = await downWaiting('waiting up to 120 s for it to end before removing the column');
    expect(await hasColumn()).toBe(true); // still waiting
    seed.child.kill('SIGKILL');
    await seed.done;
    const r = await down;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /A backfill of table 'memories' is running \(connection \d+\): waiting up to 120 s for it to end before removing the column\.\.\./,
    );
    expect(await hasColumn()).toBe(false);
    expect(await applied()).toEqual([]);
    expect((await new SeedLedger('sparse_vector_seeds').get(db.knex, BACKFILL_SEEDER))?.status).not.toBe('done');
  });

  test('down while a sharded backfill runs: refused after the lock timeout, then waits for its shards to end', async () => {
    const release = path.join(os.tmpdir(), `sparse-release-${process.pid}-${Date.now()}`);
    const seed = startAt(
      'backfill:before-write',
      ['seed', '--shard', '0/2', '--workers', '1', '--batch-size', '10', '--progress', 'plain'],
      { ...env, SPARSE_FAILPOINT_RELEASE: release },
    );
    try {
      await seed.reached;
      const refused = await umzug(['down'], { ...env, SPARSE_LOCK_TIMEOUT: '1' });
      expect(refused.stderr.split('\n')[0]).toBe(
        "Error [BACKFILL_RUNNING]: A sharded backfill of table 'memories' is running; waited 1 s for it to end. Nothing was changed.",
      );
      expect(refused.code).toBe(1);
      expect(await hasColumn()).toBe(true);
      expect(await applied()).toEqual([MIGRATION]);
      const { done: down } = await downWaiting('waiting up to 120 s for them to end');
      expect(await hasColumn()).toBe(true); // still waiting for the shard
      fs.writeFileSync(release, '');
      const shard = await seed.done;
      expect(shard.code).toBe(0);
      expect(shard.stdout + shard.stderr).not.toContain('SCHEMA_DOWNGRADED');
      const r = await down;
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(
        "1 shard(s) of a sharded backfill of table 'memories' are running: waiting up to 120 s for them to end before removing the column...",
      );
      expect(await hasColumn()).toBe(false);
      expect(await applied()).toEqual([]);
    } finally {
      fs.rmSync(release, { force: true });
    }
  });

  test("SPARSE_LOCK_TIMEOUT bounds both of down's waits together: the wait for shards gets what is left", async () => {
    // A whole-table backfill (its table lock) and one shard (a presence lock) running, held here by the test.
    const hold = async (name: string) => {
      const conn = await db.knex.client.acquireConnection();
      const run = (sql: string) =>
        new Promise<number | null>((resolve, reject) =>
          conn.query(sql, [name], (err: Error | null, rows: Array<{ r: number | null }>) =>
            err ? reject(err) : resolve(rows[0].r),
          ),
        );
      expect(await run('SELECT GET_LOCK(?, 0) AS r')).toBe(1);
      let held = true;
      return async () => {
        if (!held) return;
        held = false;
        await run('SELECT RELEASE_LOCK(?) AS r');
        await db.knex.client.releaseConnection(conn);
      };
    };
    const releaseTable = await hold(seedLockName(db.name, 'memories'));
    const releaseShard = await hold(shardSlotName(db.name, 'memories', 0));
    // The downgrade in this process (the migration `npx umzug down` runs), its lines captured as they come.
    const log = watchedLogger();
    const migrator = createSparseMigrator({ config: portableConfig(db, { lockTimeoutSeconds: 20 }), logger: log });
    const down = migrator.umzug.down();
    try {
      await log.printed(/waiting up to 20 s for it to end/, down);
      // The first wait lasts at least 2 s (the test holds the table's lock that long), so at most 18 s are left.
      await db.knex.raw('SELECT SLEEP(2)');
      await releaseTable();
      const shardWait = await log.printed(
        /1 shard\(s\) of a sharded backfill of table 'memories' are running: waiting up to (\d+) s/,
        down,
      );
      expect(Number(shardWait[1])).toBeLessThanOrEqual(18);
      await releaseShard();
      await down;
    } finally {
      await releaseTable();
      await releaseShard();
      await down.catch(() => undefined);
      await migrator.close();
    }
    expect(await hasColumn()).toBe(false);
    expect(await applied()).toEqual([]);
  });

  test('a shard does not start while a downgrade runs: nothing written', async () => {
    // The state a shard meets when it starts after a downgrade looked for running shards: the downgrade lock held.
    const name = downgradeLockName(db.name, 'memories');
    const holder = await db.knex.client.acquireConnection();
    const run = (sql: string) =>
      new Promise((resolve, reject) =>
        holder.query(sql, [name], (err: Error | null) => (err ? reject(err) : resolve(0))),
      );
    try {
      await run('SELECT GET_LOCK(?, 0)');
      const r = await umzug(['seed', '--shard', '1/2', '--progress', 'plain'], env);
      expect(r.code).toBe(1); // busy, as for any run that finds its lock taken
      expect(r.stdout).toContain(
        "A downgrade of table 'memories' is running; shard 1/2 does not start (the downgrade removes the column it would write).",
      );
      const [[row]] = await db.knex.raw('SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NOT NULL');
      expect(Number(row.n)).toBe(0);
      expect(await new SeedLedger('sparse_vector_seeds').get(db.knex, BACKFILL_SEEDER)).toBeUndefined();
    } finally {
      await run('SELECT RELEASE_LOCK(?)');
      await db.knex.client.releaseConnection(holder);
    }
    // Once the lock is free, the same command runs its shard.
    const again = await umzug(['seed', '--shard', '1/2', '--progress', 'plain'], env);
    expect(again.stdout).not.toContain('does not start');
    expect(again.stdout).toMatch(/Migrated: [1-9]/);
    const [[row]] = await db.knex.raw('SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NOT NULL');
    expect(Number(row.n)).toBeGreaterThan(0);
  });

  test('a backfill whose column another tool drops under it ends with SCHEMA_DOWNGRADED, not "run again"', async () => {
    const release = path.join(os.tmpdir(), `sparse-release-${process.pid}-${Date.now()}`);
    const seed = startAt(
      'backfill:before-write',
      ['seed', '--workers', '1', '--batch-size', '10', '--progress', 'plain'],
      { ...env, SPARSE_FAILPOINT_RELEASE: release },
    );
    try {
      await seed.reached;
      await db.knex.raw('ALTER TABLE memories DROP COLUMN sparse_embedding'); // not through our downgrade
      fs.writeFileSync(release, '');
      const r = await seed.done;
      expect(r.stderr).toContain(
        "Error [SCHEMA_DOWNGRADED]: The sparse_embedding column of table 'memories' was removed while the backfill ran: the schema was downgraded. The backfill stopped; nothing more can be written.\n" +
          '  If the downgrade was meant, there is nothing to do. Otherwise run the upgrade again (npx umzug up), then the backfill.',
      );
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('run the same command again');
      expect(r.stdout + r.stderr).not.toContain('Unknown column');
      expect((await new SeedLedger('sparse_vector_seeds').get(db.knex, BACKFILL_SEEDER))?.status).toBe('incomplete');
    } finally {
      fs.rmSync(release, { force: true });
    }
  });
});
