import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { Umzug, memoryStorage } from 'umzug';
import { withSparseVector } from '../../src/compose/with-sparse-vector';
import { sparseVectorMigrations } from '../../src/compose/umzug-migrations';
import { mysql2Options } from '../../src/db/knex';
import { acquireLock, lockName } from '../../src/db/lock';
import { silentLogger } from '../../src/util/logger';
import { createMemoriesTable, createTestDatabase, type TestDatabase } from '../support/db';

const OURS = '20250601000000_add_sparse_vector';

/** An application's migration directories: names before and after ours, .js and .ts, and a file knex skips. */
function appMigrationDirs(): { root: string; dirs: string[] } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'svm-compose-'));
  const a = path.join(root, 'migrations');
  const b = path.join(root, 'more-migrations');
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  const body = 'exports.up = async () => undefined;\nexports.down = async () => undefined;\n';
  fs.writeFileSync(path.join(a, '20240101000000_first.js'), body);
  fs.writeFileSync(path.join(a, '20300101000000_later.js'), body);
  fs.writeFileSync(path.join(a, 'README.md'), 'not a migration');
  fs.writeFileSync(path.join(b, '20250101000000_second.ts'), body);
  return { root, dirs: [a, b] };
}

async function names(knex: Knex): Promise<{ done: string[]; pending: string[] }> {
  const [done, pending] = (await knex.migrate.list()) as [Array<{ name: string }>, Array<{ file: string }>];
  return { done: done.map((m) => m.name), pending: pending.map((m) => m.file) };
}

describe("withSparseVector: the application's knex configuration plus ours", () => {
  let db: TestDatabase;
  let app: { root: string; dirs: string[] };
  beforeAll(async () => {
    db = await createTestDatabase('compose');
    await createMemoriesTable(db.knex);
    app = appMigrationDirs();
    process.env.SPARSE_VECTOR_STORAGE = 'json';
  });
  afterAll(async () => {
    delete process.env.SPARSE_VECTOR_STORAGE;
    delete process.env.SPARSE_LOCK_TIMEOUT;
    fs.rmSync(app.root, { recursive: true, force: true });
    await db.drop();
  });

  const appConfig = (extra: Partial<Knex.MigratorConfig> = {}): Knex.Config => ({
    client: 'mysql2',
    connection: mysql2Options(db.connection),
    pool: { min: 0, max: 2 },
    migrations: { directory: app.dirs, tableName: 'app_migrations', ...extra },
  });

  test("lists the app's migrations exactly as knex does, plus ours, sorted as knex sorts", async () => {
    for (const extra of [{}, { sortDirsSeparately: true }, { loadExtensions: ['.js'] }]) {
      const plain = knexFactory(appConfig(extra));
      const composed = knexFactory(withSparseVector(appConfig(extra), { command: 'migrate:list' }));
      try {
        const own = (await names(plain)).pending;
        const both = (await names(composed)).pending;
        expect(both.filter((n) => n !== OURS)).toEqual(own);
        // Sorted by name as knex sorts one list; with sortDirsSeparately ours come as a last directory.
        const expected = extra.sortDirsSeparately ? [...own, OURS] : [...own, OURS].sort();
        expect({ extra, both }).toEqual({ extra, both: expected });
      } finally {
        await Promise.all([plain.destroy(), composed.destroy()]);
      }
    }
  });

  test('a map of environments: each is composed; migrate latest/rollback write the app ledger only', async () => {
    const composed = withSparseVector(
      { development: appConfig(), production: appConfig({ tableName: 'prod_migrations' }) },
      { command: 'migrate:latest' },
    );
    const knex = knexFactory(composed.development);
    try {
      await knex.migrate.latest();
      expect(await names(knex)).toEqual({
        done: ['20240101000000_first.js', '20250101000000_second.ts', OURS, '20300101000000_later.js'],
        pending: [],
      });
      const [cols] = await db.knex.raw(
        "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'memories' AND COLUMN_NAME = 'sparse_embedding'",
      );
      expect(cols).toHaveLength(1);
      expect(await db.knex.schema.hasTable('sparse_vector_migrations')).toBe(false);
      await knex.migrate.rollback(undefined, true);
      expect((await names(knex)).done).toEqual([]);
    } finally {
      await knex.destroy();
    }
    const prod = knexFactory(composed.production);
    try {
      expect((await names(prod)).pending).toContain(OURS);
    } finally {
      await prod.destroy();
    }
  });

  test('a knexfile that exports a function: the function is composed too', async () => {
    const composed = withSparseVector(async () => appConfig(), { command: 'migrate:list' });
    const knex = knexFactory(await composed());
    try {
      expect((await names(knex)).pending).toContain(OURS);
    } finally {
      await knex.destroy();
    }
  });

  test('migrate:make keeps the app configuration as it is, so knex writes the new file into the app directory', () => {
    const config = appConfig();
    expect(withSparseVector(config, { command: 'migrate:make' })).toBe(config);
  });

  test('our migration takes the advisory lock itself under the app knex: a held lock makes it wait, then time out', async () => {
    const lock = await acquireLock(db.connection, lockName('migrate', db.name, 'memories'), { timeoutSeconds: 1 });
    process.env.SPARSE_LOCK_TIMEOUT = '0';
    const knex = knexFactory(withSparseVector(appConfig(), { command: 'migrate:latest' }));
    try {
      await expect(knex.migrate.latest()).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
    } finally {
      delete process.env.SPARSE_LOCK_TIMEOUT;
      await lock.release();
      await knex.migrate.rollback(undefined, true);
      await knex.destroy();
    }
  });
});

describe("sparseVectorMigrations: our migrations in the application's own Umzug", () => {
  let db: TestDatabase;
  let knex: Knex;
  beforeAll(async () => {
    db = await createTestDatabase('compose_umzug');
    await createMemoriesTable(db.knex, 'notes');
    knex = knexFactory({ client: 'mysql2', connection: mysql2Options(db.connection), pool: { min: 0, max: 2 } });
  });
  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });

  test("runs on the app's knex context with the app's storage, under our lock", async () => {
    const storage = memoryStorage();
    const umzug = new Umzug({
      migrations: sparseVectorMigrations({
        table: 'notes',
        storage: 'json',
        logger: silentLogger,
        lockTimeoutSeconds: 0,
      }),
      context: () => knex,
      storage,
      logger: undefined,
    });
    const lock = await acquireLock(db.connection, lockName('migrate', db.name, 'notes'), { timeoutSeconds: 1 });
    try {
      await expect(umzug.up()).rejects.toThrow(/lock/i);
    } finally {
      await lock.release();
    }
    expect(await storage.executed({ context: knex })).toEqual([]);
    await umzug.up();
    expect(await storage.executed({ context: knex })).toEqual([OURS]);
    const [cols] = await db.knex.raw(
      "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'notes' AND COLUMN_NAME = 'sparse_embedding'",
    );
    expect(cols).toHaveLength(1);
    // Idempotent: a second ledger (here: a fresh storage) applying it again finds the work done.
    await new Umzug({
      migrations: sparseVectorMigrations({ table: 'notes', storage: 'json', logger: silentLogger }),
      context: () => knex,
      storage: memoryStorage(),
      logger: undefined,
    }).up();
    await umzug.down();
    expect(await storage.executed({ context: knex })).toEqual([]);
  });

  test('without a knex context it connects with the configured settings; the migrations carry no path', async () => {
    const migrations = sparseVectorMigrations({
      databaseUrl: db.url,
      table: 'notes',
      storage: 'json',
      logger: silentLogger,
    });
    expect(migrations.map((m) => [m.name, 'path' in m])).toEqual([[OURS, false]]);
    const umzug = new Umzug({ migrations, context: {}, storage: memoryStorage(), logger: undefined });
    await umzug.up();
    await umzug.down();
  });
});
