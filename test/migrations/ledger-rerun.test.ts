import { run, umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, type TestDatabase } from '../support/db';

const MIGRATION = '20250601000000_add_sparse_vector';

/** One ledger row per migration, whatever reruns it: knex's migrate:status must not list a migration twice. */
describe('ledger rows stay unique', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  // A database of its own per test: each test passes alone and in any order (jest --randomize).
  beforeEach(async () => {
    db = await createTestDatabase('ledger_rerun');
    await createMemoriesTable(db.knex);
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterEach(async () => db.drop());

  const rows = async () => db.knex('sparse_vector_migrations').select('name', 'batch').orderBy('id');

  test('umzug up --name X --rerun ALLOW moves the row to the new batch instead of adding one', async () => {
    expect((await umzug(['up'], env)).code).toBe(0);
    const rerun = await umzug(['up', '--name', MIGRATION, '--rerun', 'ALLOW'], env);
    expect(rerun.code).toBe(0);
    expect(await rows()).toEqual([{ name: MIGRATION, batch: 2 }]);
    const status = await run('npx', ['--no-install', 'knex', 'migrate:status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Found 1 Completed Migration file/files.');
  });

  test('duplicate rows written by an earlier version are folded into one by the next rerun', async () => {
    expect((await umzug(['up'], env)).code).toBe(0);
    await db.knex('sparse_vector_migrations').insert({ name: MIGRATION, batch: 2, migration_time: new Date() });
    const executed = await umzug(['executed', '--json'], env);
    expect(JSON.parse(executed.stdout).map((m: { name: string }) => m.name)).toEqual([MIGRATION]);
    expect((await umzug(['up', '--name', MIGRATION, '--rerun', 'ALLOW'], env)).code).toBe(0);
    expect(await rows()).toEqual([{ name: MIGRATION, batch: 3 }]);
  });
});
