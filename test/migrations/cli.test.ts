import { spawn } from 'node:child_process';
import path from 'node:path';
import { collect, ROOT, run, umzug } from '../support/cli';
import { resetSchema } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const MIGRATION = '20250601000000_add_sparse_vector';
// Each test runs npx several times (a few seconds each on a loaded machine): more than the default 60 s.
jest.setTimeout(240_000);
const npx = (args: string[], env: NodeJS.ProcessEnv) =>
  run('npx', ['--no-install', ...args], { env, timeoutMs: 90_000 });

async function ledgerNames(db: TestDatabase): Promise<string[]> {
  if (!(await db.knex.schema.hasTable('sparse_vector_migrations'))) return [];
  return (await db.knex('sparse_vector_migrations').select('name').orderBy('id')).map((r: { name: string }) => r.name);
}

async function showCreate(db: TestDatabase): Promise<string> {
  const [rows] = await db.knex.raw('SHOW CREATE TABLE memories');
  return rows[0]['Create Table'];
}

describe('entry points as a user runs them: npx umzug, npx knex', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    db = await createTestDatabase('cli');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 20 });
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterAll(async () => db.drop());
  beforeEach(async () => resetSchema(db)); // each test starts before the upgrade (any order)

  test('npx umzug up, then knex sees it applied; knex rollback, then umzug sees it pending', async () => {
    const pending = await npx(['umzug', 'pending'], env);
    expect(pending.code).toBe(0);
    expect(pending.stderr).not.toMatch(/error/i);
    expect(pending.stdout.trim()).toBe(MIGRATION);

    const up = await npx(['umzug', 'up'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`== migrating ${MIGRATION}`);
    expect(up.stdout).toContain("Adding sparse_embedding column to table 'memories'");
    expect(up.stdout).toContain("Sparse vector upgrade completed successfully for table 'memories'");
    expect(up.stdout).toContain('applied 1 migrations.');
    expect(await ledgerNames(db)).toEqual([MIGRATION]);

    const status = await npx(['knex', 'migrate:status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('No Pending Migration files Found.');
    const latest = await npx(['knex', 'migrate:latest'], env);
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain('Already up to date');

    const rollback = await npx(['knex', 'migrate:rollback'], env);
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain('Batch 1 rolled back: 1 migrations');
    expect(rollback.stdout).toContain('Dropping sparse_embedding column');
    expect(await ledgerNames(db)).toEqual([]);
    const json = await npx(['umzug', 'pending', '--json'], env);
    expect(JSON.parse(json.stdout).map((m: { name: string }) => m.name)).toEqual([MIGRATION]);
  });

  test('npx knex migrate:latest, then umzug sees it executed; umzug down, then knex sees it pending', async () => {
    const latest = await npx(['knex', 'migrate:latest'], env);
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain('Batch 1 run: 1 migrations');
    expect(latest.stdout).toContain('sparse_embedding column added successfully');
    const executed = await npx(['umzug', 'executed'], env);
    expect(executed.stdout.trim()).toBe(MIGRATION);
    expect((await npx(['umzug', 'up'], env)).stdout).toContain('applied 0 migrations.');

    const down = await npx(['umzug', 'down'], env);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('reverted 1 migrations.');
    const status = await npx(['knex', 'migrate:status'], env);
    expect(status.stdout).toContain('Found 1 Pending Migration file/files.');
    expect(status.stdout).toContain(MIGRATION);
  });

  test('npx knex migrate:up / migrate:down and npx umzug --step / --to 0 move one migration at a time', async () => {
    const up = await npx(['knex', 'migrate:up'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`Batch 1 ran the following migrations:\n${MIGRATION}`);
    expect(await ledgerNames(db)).toEqual([MIGRATION]);
    expect(await showCreate(db)).toContain('`sparse_embedding`');
    const down = await npx(['knex', 'migrate:down'], env);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`Batch 1 rolled back the following migrations:\n${MIGRATION}`);
    expect(await ledgerNames(db)).toEqual([]);
    expect(await showCreate(db)).not.toContain('`sparse_embedding`');

    const step = await umzug(['up', '--step', '1'], env);
    expect(step.code).toBe(0);
    expect(step.stdout).toContain('applied 1 migrations.');
    expect(await ledgerNames(db)).toEqual([MIGRATION]);
    const to0 = await umzug(['down', '--to', '0'], env);
    expect(to0.code).toBe(0);
    expect(to0.stdout).toContain('reverted 1 migrations.');
    expect(await ledgerNames(db)).toEqual([]);
  });

  test('--to a migration that does not exist: usage error listing the known names, exit 2, nothing applied', async () => {
    const r = await umzug(['up', '--to', '20990101_nope'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Error [USAGE]: --to "20990101_nope" is not a migration of this package.');
    expect(r.stderr).toContain(`Known migrations: ${MIGRATION} (with or without the file extension).`);
    expect(await ledgerNames(db)).toEqual([]);
  });

  test('unknown flag: usage error, exit 2', async () => {
    const r = await umzug(['up', '--bogus'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unrecognized arguments: --bogus/);
  });

  test('MariaDB without portable mode: error names the server and version, exit 1, schema unchanged', async () => {
    const before = await showCreate(db);
    const r = await umzug(['up'], db.env({ SPARSE_VECTOR_STORAGE: '' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Error \[UNSUPPORTED_SERVER\]: The server is MariaDB [\d.]+ \(VERSION\(\) = '[^']+'\), which has no native sparse vectors: they need seekdb or OceanBase >= 4\.5\.0\. Nothing was changed\./,
    );
    expect(r.stderr).toContain('SPARSE_VECTOR_STORAGE=json');
    expect(await showCreate(db)).toBe(before);
    expect(await ledgerNames(db)).toEqual([]);
  });

  test('a wrong password is reported without the password', async () => {
    const url = new URL(db.url);
    url.password = 'Wr0ng-S3cret-xyz';
    const r = await umzug(['up'], { ...env, DATABASE_URL: url.toString() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Error \[CONNECTION_FAILED\]: Cannot connect to mysql:\/\/svm:\*\*\*\*@127\.0\.0\.1:\d+\/svmt_cli_\w+: access was denied/,
    );
    expect(r.stdout + r.stderr).not.toContain('Wr0ng-S3cret-xyz');
  });
});

describe('concurrency and crashes', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    db = await createTestDatabase('lock');
    await createMemoriesTable(db.knex);
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterAll(async () => db.drop());
  beforeEach(async () => resetSchema(db));

  test('8 processes running up at the same moment: the DDL runs once, all exit 0, one ledger row', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => umzug(['up'], env, 90_000)));
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = results.map((r) => r.stdout).join('\n');
    expect(out.match(/Adding sparse_embedding column/g)?.length).toBe(1);
    expect(out.match(/applied 1 migrations\./g)?.length).toBe(1);
    expect(out.match(/applied 0 migrations\./g)?.length).toBe(7);
    expect(await ledgerNames(db)).toEqual([MIGRATION]);
  });

  test('a process killed with SIGKILL while holding the lock does not block the next run', async () => {
    await umzug(['down'], env);
    const holderScript = `
      const { acquireLock, lockName } = require(${JSON.stringify(path.join(ROOT, 'dist/src/db/lock.js'))});
      const { parseDatabaseUrl } = require(${JSON.stringify(path.join(ROOT, 'dist/src/config/connection-config.js'))});
      const c = parseDatabaseUrl(process.env.DATABASE_URL);
      acquireLock(c, lockName('migrate', c.database, 'memories'), { timeoutSeconds: 5 }).then(() => {
        console.log('locked');
        setInterval(() => {}, 1000);
      });`;
    const holder = spawn(process.execPath, ['-e', holderScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(holder, 60_000);
    await new Promise<void>((resolve) => holder.stdout.on('data', (d) => String(d).includes('locked') && resolve()));

    const blocked = await umzug(['up'], { ...env, SPARSE_LOCK_TIMEOUT: '1' });
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain('Error [LOCK_TIMEOUT]: Another run holds the lock');
    expect(await ledgerNames(db)).toEqual([]);

    holder.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    const next = await umzug(['up'], { ...env, SPARSE_LOCK_TIMEOUT: '30' });
    expect(next.code).toBe(0);
    expect(await ledgerNames(db)).toEqual([MIGRATION]);
  });

  test("knex's lock row left set by a crashed knex run is cleared under our lock", async () => {
    // What a knex run killed while migrating leaves: its lock table with the lock row set.
    await db.knex.raw(
      'CREATE TABLE sparse_vector_migrations_lock (`index` INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, is_locked INT NULL)',
    );
    await db.knex('sparse_vector_migrations_lock').insert({ is_locked: 1 });
    const r = await npx(['knex', 'migrate:latest'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Cleared a stale knex migration lock left by a crashed run');
    expect(r.stdout).toContain('Batch 1 run: 1 migrations');
  });
});
