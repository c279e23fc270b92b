/**
 * A table whose sparse column (and, on native servers, index) was added by powermem's Python upgrade script
 * or by hand: no ledger entry. `up` (any entry point) records it without DDL and keeps its vectors; every
 * downgrade route then works, and the downgrade script works even without the record, with its usual
 * confirmation.
 */
import { ROOT, run, sparseVector, umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const MIGRATION = '20250601000000_add_sparse_vector';
const npx = (args: string[], env: NodeJS.ProcessEnv) =>
  run('npx', ['--no-install', ...args], { env, timeoutMs: 90_000, cwd: ROOT });

async function handUpgrade(db: TestDatabase): Promise<void> {
  await db.knex.raw('ALTER TABLE memories ADD COLUMN sparse_embedding JSON NULL');
  await db.knex.raw("UPDATE memories SET sparse_embedding = '[[1,0.5],[7,0.25]]' ORDER BY id LIMIT 3");
}

async function state(db: TestDatabase): Promise<{ column: boolean; vectors: number; ledger: string[] }> {
  const [cols] = (await db.knex.raw(
    "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'memories' AND COLUMN_NAME = 'sparse_embedding'",
  )) as [Array<{ n: number }>];
  const column = Number(cols[0].n) === 1;
  const vectors = column
    ? Number(
        (
          (await db.knex.raw('SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NOT NULL')) as [
            Array<{ n: number }>,
          ]
        )[0][0].n,
      )
    : 0;
  const ledger = (await db.knex.schema.hasTable('sparse_vector_migrations'))
    ? (await db.knex('sparse_vector_migrations').select('name')).map((r: { name: string }) => r.name)
    : [];
  return { column, vectors, ledger };
}

describe('a table upgraded elsewhere (no ledger entry)', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    db = await createTestDatabase('elsewhere');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 10 });
    await handUpgrade(db);
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterEach(async () => db.drop());

  test('npx umzug up records it without DDL, keeping its vectors; npx umzug down then removes it', async () => {
    const up = await umzug(['up'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("sparse_embedding column already exists on table 'memories'");
    expect(up.stdout).toContain(
      "Table 'memories' was already upgraded (by powermem's script or by hand): recorded without DDL",
    );
    expect(up.stdout).not.toContain('Adding sparse_embedding column');
    expect(await state(db)).toEqual({ column: true, vectors: 3, ledger: [MIGRATION] });
    const down = await umzug(['down'], env);
    expect(down.code).toBe(0);
    expect(await state(db)).toEqual({ column: false, vectors: 0, ledger: [] });
  });

  test('npx knex migrate:latest records it; npx knex migrate:rollback removes it', async () => {
    const latest = await npx(['knex', 'migrate:latest'], env);
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain('recorded without DDL');
    expect(await state(db)).toEqual({ column: true, vectors: 3, ledger: [MIGRATION] });
    const rollback = await npx(['knex', 'migrate:rollback'], env);
    expect(rollback.code).toBe(0);
    expect(await state(db)).toEqual({ column: false, vectors: 0, ledger: [] });
  });

  test('downgrade script without any record: refused without confirmation, then done with --yes', async () => {
    const refused = await sparseVector(['run', 'downgrade-sparse-vector'], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      "This will permanently delete 3 sparse vectors from table 'memories' (it drops the sparse_embedding column; the upgrade was made outside this tool: 'sparse_vector_migrations' does not record it).",
    );
    expect(refused.stderr).toContain(
      'Refusing to delete 3 sparse vectors without confirmation: not running on a terminal.',
    );
    expect(await state(db)).toEqual({ column: true, vectors: 3, ledger: [] });
    const done = await sparseVector(['run', 'downgrade-sparse-vector', '--yes'], env);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("Dropping sparse_embedding column from table 'memories'");
    expect(await state(db)).toEqual({ column: false, vectors: 0, ledger: [] });
  });

  test('upgrade script records it, downgrade script (--yes) reverts the record and the schema', async () => {
    const up = await sparseVector(['run', 'upgrade-sparse-vector'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('recorded without DDL');
    expect(await state(db)).toEqual({ column: true, vectors: 3, ledger: [MIGRATION] });
    const down = await sparseVector(['run', 'downgrade-sparse-vector', '--yes'], env);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`reverts: ${MIGRATION}`);
    expect(await state(db)).toEqual({ column: false, vectors: 0, ledger: [] });
  });
});
