import path from 'node:path';
import { runSeeder } from '../../src/backfill';
import { checkTable, portableConfig, slowed, upgrade } from '../support/backfill';
import { ROOT, run, startAt, umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const MIGRATION = '20250601000000_add_sparse_vector';

async function lockFree(db: TestDatabase, kind: 'migrate' | 'seed' = 'migrate'): Promise<boolean> {
  const [rows] = await db.knex.raw('SELECT IS_FREE_LOCK(?) AS free', [`svm:${kind}:${db.name}.memories`]);
  return rows[0].free === 1;
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
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
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

  test('SIGKILL in the middle of down (index gone, column not yet): re-run completes', async () => {
    await umzug(['up'], env);
    const { child, done, reached } = startAt('downgrade:before-drop-column', ['down'], env);
    await reached;
    child.kill('SIGKILL');
    await done;
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
    const [locks] = await db.knex.raw('SELECT IS_USED_LOCK(?) AS holder', [`svm:migrate:${db.name}.memories`]);
    const ids = new Set<number>(list.map((r: { id: number }) => Number(r.id)));
    if (locks[0].holder) ids.add(Number(locks[0].holder));
    ids.delete(Number(me.id));
    for (const id of ids) await db.knex.raw(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
    return ids.size;
  }

  test('mid-migration: the run fails cleanly, the lock is not left held, a re-run completes', async () => {
    const { done, reached } = startAt('upgrade:after-add-column:1500', ['up'], env);
    await reached;
    expect(await killOthers()).toBeGreaterThan(0);
    const r = await done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Error( \[\w+\])?: .*(Connection lost|closed|killed|PROTOCOL_CONNECTION_LOST|ECONNRESET)/i,
    );
    expect(await lockFree(db)).toBe(true);
    const again = await umzug(['up'], env);
    expect(again.code).toBe(0);
    expect(await schemaAndLedger(db)).toEqual({ column: true, ledger: [MIGRATION] });
  });

  test('mid-backfill (the tracked seeder): the run retries or ends with a clear error, its lock is freed, a re-run completes with every row right', async () => {
    await upgrade(db);
    const running = runSeeder({
      config: portableConfig(db),
      embedder: slowed(30),
      workers: 3,
      batchSize: 25,
      delaySeconds: 0,
      progress: 'none',
    });
    await new Promise((r) => setTimeout(r, 400));
    const [[me]] = await db.knex.raw('SELECT CONNECTION_ID() AS id');
    const [list] = await db.knex.raw('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> ?', [
      db.name,
      me.id,
    ]);
    const [[holder]] = await db.knex.raw('SELECT IS_USED_LOCK(?) AS id', [`svm:seed:${db.name}.memories`]);
    expect(holder.id).not.toBeNull(); // the seeder holds its lock while it runs
    const ids = new Set<number>([...list.map((r: { id: number }) => Number(r.id)), Number(holder.id)]);
    expect(ids.size).toBeGreaterThan(1);
    for (const id of ids) await db.knex.raw(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
    const first = await running.then(
      (summary) => ({ summary, error: summary.error }),
      (error: Error) => ({ summary: undefined, error }),
    );
    // Either the retries carried the run through (every row done), or it ended with a clear connection error.
    if (first.error) expect(first.error.message).toMatch(/connection|closed|killed|lost/i);
    else expect(first.summary).toMatchObject({ ok: true, remaining: 0 });
    expect(await lockFree(db, 'seed')).toBe(true);
    expect((await checkTable(db)).wrong).toEqual([]);
    const second = await runSeeder({ config: portableConfig(db), delaySeconds: 0, progress: 'none', rerun: true });
    expect(second.ok).toBe(true);
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
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

  test('migrations once, background backfill once per row, all exit 0', async () => {
    const env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        run(process.execPath, [path.join(ROOT, 'dist', 'examples', 'boot.js'), '--run-for', '20000'], {
          env,
          timeoutMs: 90_000,
        }),
      ),
    );
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = results.map((r) => r.stdout).join('\n');
    expect(out.match(/\[boot\] migrations: applied 1/g)).toHaveLength(1);
    expect(out.match(/\[boot\] migrations: applied 0 \(none\), already applied 1/g)).toHaveLength(7);
    expect(await db.knex('sparse_vector_migrations').select('name')).toEqual([{ name: MIGRATION }]);
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
    const embeddedByRuns = results
      .map((r) => Number(/backfill \w+: (\d+) embedded/.exec(r.stdout)?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    const check = await checkTable(db);
    expect(embeddedByRuns).toBe(check.embedded);
  });
});
