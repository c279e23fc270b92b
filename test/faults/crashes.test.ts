import path from 'node:path';
import { acquireLock, lockName } from '../../src/db/lock';
import { checkTable, resetBackfill, upgrade, waitUntil } from '../support/backfill';
import { ROOT, run, startAt, umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const MIGRATION = '20250601000000_add_sparse_vector';

async function lockFree(db: TestDatabase, kind: 'migrate' | 'seed' = 'migrate'): Promise<boolean> {
  const [rows] = await db.knex.raw('SELECT IS_FREE_LOCK(?) AS free', [`sparse-vector:${kind}:${db.name}.memories`]);
  return rows[0].free === 1;
}

async function indexExists(db: TestDatabase): Promise<boolean> {
  const [rows] = await db.knex.raw(
    "SELECT COUNT(*) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'memories' AND INDEX_NAME = 'sparse_embedding_idx'",
  );
  return Number(rows[0].n) > 0;
}

async function schemaAndLedger(db: TestDatabase) {
  const [cols] = await db.knex.raw(
    "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'memories' AND COLUMN_NAME = 'sparse_embedding'",
  );
  const ledger = (await db.knex.schema.hasTable('sparse_vector_migrations'))
    ? (await db.knex('sparse_vector_migrations').select('name')).map((r: { name: string }) => r.name)
    : [];
  return { column: Number(cols[0].n) === 1, ledger };
}

describe('crashes: SIGKILL at the upgrade DDL and at the ledger write, then the same command again', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    db = await createTestDatabase('crash');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 100 });
    // A key the runs never use: it must not appear in any output, also of a killed run (startAt checks).
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json', SPARSE_EMBEDDER_API_KEY: 'sk-CRASH-9f8e7d6c5b4a' });
  });
  afterAll(async () => db.drop());

  test.each([
    ['upgrade:after-add-column', 'column added, ledger not written'],
    ['upgrade:before-ledger', 'DDL done, migration returned'],
    ['ledger:before-insert', 'inside the ledger write'],
  ])('SIGKILL at %s (%s): re-run completes, schema and ledger agree, lock free', async (point) => {
    await umzug(['down'], env);
    const { child, done, reached } = startAt(point, ['up'], env);
    await reached;
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(await schemaAndLedger(db)).toEqual({ column: true, ledger: [] }); // the half-done state
    const again = await umzug(['up'], env);
    expect(again.code).toBe(0);
    expect(await schemaAndLedger(db)).toEqual({ column: true, ledger: [MIGRATION] });
    expect(await lockFree(db)).toBe(true);
  });

  test.each([
    ['no index (portable storage creates none)', false],
    ['an index on the column (portable storage with an index made by hand)', true],
  ])('SIGKILL in the middle of down, %s: index gone, column not yet; re-run completes', async (_name, withIndex) => {
    await umzug(['up'], env);
    // Portable storage has no sparse index, so "index dropped, column not yet" needs one made by hand (a
    // prefix index on the JSON column): down drops an index of that name when it exists, as on OceanBase.
    if (withIndex) await db.knex.raw('CREATE INDEX sparse_embedding_idx ON memories (sparse_embedding(32))');
    expect(await indexExists(db)).toBe(withIndex);
    const { child, done, reached } = startAt('downgrade:before-drop-column', ['down'], env);
    await reached;
    child.kill('SIGKILL');
    await done;
    expect(await indexExists(db)).toBe(false);
    expect(await schemaAndLedger(db)).toEqual({ column: true, ledger: [MIGRATION] });
    const again = await umzug(['down'], env);
    expect(again.code).toBe(0);
    expect(await schemaAndLedger(db)).toEqual({ column: false, ledger: [] });
    expect(await lockFree(db)).toBe(true);
  });
});

describe('lost connection: the server kills our connections mid-run', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    db = await createTestDatabase('killconn');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 1500, emptyRate: 0 });
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterAll(async () => db.drop());

  async function killOthers(): Promise<number> {
    const [[me]] = await db.knex.raw('SELECT CONNECTION_ID() AS id');
    const [list] = await db.knex.raw('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> ?', [
      db.name,
      me.id,
    ]);
    const [locks] = await db.knex.raw('SELECT IS_USED_LOCK(?) AS holder', [
      `sparse-vector:migrate:${db.name}.memories`,
    ]);
    const ids = new Set<number>(list.map((r: { id: number }) => Number(r.id)));
    if (locks[0].holder) ids.add(Number(locks[0].holder));
    ids.delete(Number(me.id));
    for (const id of ids) await db.knex.raw(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
    return ids.size;
  }

  test('mid-migration: the run fails cleanly, the lock is not left held, a re-run completes', async () => {
    await umzug(['down'], env);
    // The run stands after its DDL until the test has killed its connections, then goes on (SIGUSR2).
    const { child, done, reached } = startAt('upgrade:after-add-column:SIGUSR2', ['up'], env);
    await reached;
    expect(await killOthers()).toBeGreaterThan(0);
    child.kill('SIGUSR2');
    const r = await done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Error( \[\w+\])?: .*(Connection lost|closed|killed|PROTOCOL_CONNECTION_LOST|ECONNRESET)/i,
    );
    expect(await lockFree(db)).toBe(true);
    const again = await umzug(['up'], env);
    // The whole result on a failure: its stderr says why the re-run did not complete.
    expect(again).toMatchObject({ code: 0 });
    expect(await schemaAndLedger(db)).toEqual({ column: true, ledger: [MIGRATION] });
  });
});

describe('concurrency: 8 application instances booting at once', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('boot8');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 1200, emptyRate: 0.01 });
  });
  afterAll(async () => db.drop());

  // Each instance ends when its backfill does (no --run-for: a run cut short by a timer would decide nothing).
  const boot = (env: NodeJS.ProcessEnv) =>
    run(process.execPath, [path.join(ROOT, 'dist', 'examples', 'boot.js')], { env, timeoutMs: 150_000 });

  test('while the test holds both locks: all 8 wait for the migration lock, then one applies and 7 find nothing pending; all 8 report the backfill busy', async () => {
    const env = db.env({ SPARSE_VECTOR_STORAGE: 'json', SPARSE_EMBEDDER_API_KEY: 'sk-BOOT8-1a2b3c4d5e' });
    await umzug(['down'], env);
    await db.knex.schema.dropTableIfExists('sparse_vector_seeds');
    const migrateLock = await acquireLock(db.connection, lockName('migrate', db.name, 'memories'), {
      timeoutSeconds: 0,
    });
    const seedLock = await acquireLock(db.connection, lockName('seed', db.name, 'memories'), { timeoutSeconds: 0 });
    try {
      const booting = Promise.all(Array.from({ length: 8 }, () => boot(env)));
      const waiting = async (): Promise<number> => {
        const [rows] = await db.knex.raw(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT GET_LOCK(%' AND INFO LIKE ?",
          [`%sparse-vector:migrate:${db.name}.memories%`],
        );
        return Number(rows[0].n);
      };
      let ended = false;
      booting.then(
        () => (ended = true),
        () => (ended = true),
      );
      await waitUntil(async () => ended || (await waiting()) === 8);
      expect(await waiting()).toBe(8); // every instance stands at GET_LOCK (none went past it)
      expect((await schemaAndLedger(db)).ledger).toEqual([]); // nothing applied while the test holds the lock
      await migrateLock.release();
      const results = await booting;
      for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const out = results.map((r) => r.stdout).join('\n');
      expect(out.match(/\[boot\] migrations: applied 1/g)).toHaveLength(1);
      expect(out.match(/\[boot\] migrations: applied 0 \(none\), already applied 1/g)).toHaveLength(7);
      expect(out.match(/\[boot\] backfill busy: 0 embedded/g)).toHaveLength(8);
      expect(await db.knex('sparse_vector_migrations').select('name')).toEqual([{ name: MIGRATION }]);
      expect((await checkTable(db)).embedded).toBe(0);
    } finally {
      await migrateLock.release();
      await seedLock.release();
    }
  }, 180_000);

  test('racing for the backfill: exactly one instance runs it, the others are busy or find it done, every row embedded once', async () => {
    const env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
    await upgrade(db);
    await resetBackfill(db);
    const results = await Promise.all(Array.from({ length: 8 }, () => boot(env)));
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const outcomes = results.map((r) => /\[boot\] backfill ([\w-]+)/.exec(r.stdout)?.[1]);
    expect(outcomes.filter((o) => o === 'finished')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'finished' && o !== 'busy' && o !== 'already-done')).toEqual([]);
    const check = await checkTable(db);
    expect(check).toMatchObject({ wrong: [], nullEligible: 0 });
    const embeddedByRuns = results
      .map((r) => Number(/backfill \S+: (\d+) embedded/.exec(r.stdout)?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    expect(embeddedByRuns).toBe(check.embedded);
  }, 180_000);
});
