import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configFromEnv, requireConnection, resolveConfig } from '../../src/config/config';
import { detectEmbeddedSeekdb } from '../../src/config/embedded-seekdb';
import { discoverTable } from '../../src/config/table-discovery';
import { SparseVectorError } from '../../src/errors';
import { createMemoryLogger } from '../../src/util/logger';
import { ROOT, run, sparseVector } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

function thrown(fn: () => unknown): SparseVectorError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SparseVectorError);
    return err as SparseVectorError;
  }
  throw new Error('expected an error');
}

async function rejected(p: Promise<unknown>): Promise<SparseVectorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SparseVectorError);
  return err as SparseVectorError;
}

async function tables(db: TestDatabase): Promise<string[]> {
  const [rows] = (await db.knex.raw(
    'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME',
  )) as [Array<{ t: string }>];
  return rows.map((r) => r.t);
}

describe('table discovery as powermem (OCEANBASE_COLLECTION unset)', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('discover');
  });
  afterEach(async () => db.drop());
  const config = () => configFromEnv({ DATABASE_URL: db.url, SPARSE_VECTOR_STORAGE: 'json' });

  test('only power_mem: it is used, said so, and the ledgers are named after it', async () => {
    await createMemoriesTable(db.knex, 'power_mem');
    const log = createMemoryLogger();
    const c = await discoverTable(db.knex, config(), log);
    expect(c.table).toBe('power_mem');
    expect(c.migrationsTable).toBe('sparse_vector_migrations_power_mem');
    expect(c.seedsTable).toBe('sparse_vector_seeds_power_mem');
    expect(c.tableDiscovery).toBeUndefined();
    expect(log.lines.join('\n')).toContain(
      "Using table 'power_mem' (OCEANBASE_COLLECTION is not set; looked for 'power_mem' and 'memories', found 'power_mem')",
    );
  });

  test('only memories: it is used, with the plain ledger names (as before)', async () => {
    await createMemoriesTable(db.knex, 'memories');
    const c = await discoverTable(db.knex, config());
    expect(c.table).toBe('memories');
    expect(c.migrationsTable).toBe('sparse_vector_migrations');
    expect(c.seedsTable).toBe('sparse_vector_seeds');
  });

  test('both: refused, the user is asked to choose', async () => {
    await createMemoriesTable(db.knex, 'power_mem');
    await createMemoriesTable(db.knex, 'memories');
    const e = await rejected(discoverTable(db.knex, config()));
    expect(e.code).toBe('TABLE_AMBIGUOUS');
    expect(e.message).toBe(
      `OCEANBASE_COLLECTION is not set and database '${db.name}' has both 'power_mem' (powermem 1.1's default table) and 'memories' (older powermem and the migration guide). Nothing was changed.`,
    );
    expect(e.hint).toBe(
      'Choose the table your powermem uses: set OCEANBASE_COLLECTION=power_mem or OCEANBASE_COLLECTION=memories (or pass `table`).',
    );
  });

  test('neither: the error says both names were looked for', async () => {
    const e = await rejected(discoverTable(db.knex, config()));
    expect(e.code).toBe('TABLE_MISSING');
    expect(e.message).toBe(
      `OCEANBASE_COLLECTION is not set and database '${db.name}' has neither 'power_mem' (powermem 1.1's default table) nor 'memories' (older powermem and the migration guide): looked for both.`,
    );
  });

  test('a configured table is never looked up (OCEANBASE_COLLECTION, table option, collection_name)', async () => {
    await createMemoriesTable(db.knex, 'power_mem');
    await createMemoriesTable(db.knex, 'memories');
    for (const c of [
      configFromEnv({ DATABASE_URL: db.url, OCEANBASE_COLLECTION: 'memories' }),
      resolveConfig({ table: 'memories' }, { DATABASE_URL: db.url }),
      resolveConfig(
        { vector_store: { provider: 'oceanbase', config: { collection_name: 'power_mem' } } },
        { DATABASE_URL: db.url },
      ),
    ]) {
      expect(c.tableDiscovery).toBeUndefined();
      expect(await discoverTable(db.knex, c)).toBe(c);
    }
    // An explicit ledger name stays as given when the table is discovered.
    await db.knex.schema.dropTable('memories');
    const c = await discoverTable(db.knex, configFromEnv({ DATABASE_URL: db.url, SPARSE_SEEDS_TABLE: 'my_seeds' }));
    expect([c.table, c.migrationsTable, c.seedsTable]).toEqual([
      'power_mem',
      'sparse_vector_migrations_power_mem',
      'my_seeds',
    ]);
  });

  test('CLI: upgrade and backfill find power_mem, say so, and change only it', async () => {
    await createMemoriesTable(db.knex, 'power_mem');
    await insertSampleMemories(db.knex, { table: 'power_mem', count: 20 });
    const env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
    delete env.OCEANBASE_COLLECTION;
    const up = await sparseVector(['run', 'upgrade-sparse-vector'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("Using table 'power_mem'");
    expect(up.stdout).toContain("Adding sparse_embedding column to table 'power_mem'");
    const fill = await sparseVector(['run', 'migrate-sparse-vector', '--delay', '0'], env);
    expect(fill.code).toBe(0);
    const [rows] = (await db.knex.raw('SELECT COUNT(*) AS n FROM power_mem WHERE sparse_embedding IS NOT NULL')) as [
      Array<{ n: number }>,
    ];
    expect(Number(rows[0].n)).toBe(20);
    expect(await tables(db)).toEqual([
      'power_mem',
      'sparse_vector_migrations_power_mem',
      'sparse_vector_migrations_power_mem_lock',
      'sparse_vector_seeds_power_mem',
      'sparse_vector_term_stats_power_mem', // the backfill's term statistics (query-side IDF)
    ]);
  });

  test('CLI: both tables -> exit 1, the choice explained, nothing created or changed', async () => {
    await createMemoriesTable(db.knex, 'power_mem');
    await createMemoriesTable(db.knex, 'memories');
    const env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
    delete env.OCEANBASE_COLLECTION;
    const r = await sparseVector(['run', 'upgrade-sparse-vector'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("has both 'power_mem' (powermem 1.1's default table) and 'memories'");
    expect(r.stderr).toContain('set OCEANBASE_COLLECTION=power_mem or OCEANBASE_COLLECTION=memories');
    expect(await tables(db)).toEqual(['memories', 'power_mem']);
    const [cols] = (await db.knex.raw(
      "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'sparse_embedding'",
    )) as [Array<{ n: number }>];
    expect(Number(cols[0].n)).toBe(0);
  });
});

describe("powermem's sparse switch: OCEANBASE_INCLUDE_SPARSE, then SPARSE_VECTOR_ENABLE (the first one set wins)", () => {
  test.each([
    [{}, true],
    [{ OCEANBASE_INCLUDE_SPARSE: 'false', SPARSE_VECTOR_ENABLE: 'true' }, false],
    [{ OCEANBASE_INCLUDE_SPARSE: 'true', SPARSE_VECTOR_ENABLE: 'false' }, true],
    [{ SPARSE_VECTOR_ENABLE: 'false' }, false],
    [{ OCEANBASE_INCLUDE_SPARSE: '', SPARSE_VECTOR_ENABLE: 'no' }, false],
    [{ OCEANBASE_INCLUDE_SPARSE: 'off' }, false],
  ])('%j -> enabled %s', (env, enabled) => {
    expect(configFromEnv(env as Record<string, string>).enabled).toBe(enabled);
  });

  test('a bad word names the variable that was read', () => {
    const e = thrown(() => configFromEnv({ OCEANBASE_INCLUDE_SPARSE: 'maybe', SPARSE_VECTOR_ENABLE: 'true' }));
    expect(e.message).toBe('OCEANBASE_INCLUDE_SPARSE="maybe" is not a boolean.');
  });

  test("vector_store.config.include_sparse (powermem's dictionary) comes before both", () => {
    const c = resolveConfig(
      { vector_store: { provider: 'oceanbase', config: { include_sparse: false } } },
      { OCEANBASE_INCLUDE_SPARSE: 'true' },
    );
    expect(c.enabled).toBe(false);
  });
});

describe("powermem's embedded seekdb: refused with what to run instead", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svm-embedded-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('detected from an empty OCEANBASE_HOST with OCEANBASE_PATH, or from ./seekdb_data; not when a host or URL is set', () => {
    expect(detectEmbeddedSeekdb({ OCEANBASE_HOST: '', OCEANBASE_PATH: '/data/seekdb' }, dir)).toEqual({
      path: '/data/seekdb',
      because: 'OCEANBASE_HOST is empty and OCEANBASE_PATH=/data/seekdb',
    });
    expect(detectEmbeddedSeekdb({}, dir)).toBeUndefined();
    fs.mkdirSync(path.join(dir, 'seekdb_data'));
    expect(detectEmbeddedSeekdb({}, dir)).toEqual({
      path: './seekdb_data',
      because: 'OCEANBASE_HOST is not set and ./seekdb_data exists',
    });
    expect(
      detectEmbeddedSeekdb({ OCEANBASE_HOST: 'db.example', OCEANBASE_PATH: './seekdb_data' }, dir),
    ).toBeUndefined();
    const withUrl = configFromEnv({ DATABASE_URL: 'mysql://u@h:2881/db', OCEANBASE_PATH: './seekdb_data' });
    expect(withUrl.embeddedSeekdb).toBeUndefined();
  });

  test('requireConnection says embedded seekdb is not supported (never a generic "not configured")', () => {
    const e = thrown(() =>
      requireConnection(
        configFromEnv({ OCEANBASE_HOST: '', OCEANBASE_PATH: './seekdb_data', OCEANBASE_DATABASE: 'powermem' }),
      ),
    );
    expect(e.code).toBe('EMBEDDED_SEEKDB_UNSUPPORTED');
    expect(e.message).toBe(
      "This looks like powermem's embedded seekdb (OCEANBASE_HOST is empty and OCEANBASE_PATH=./seekdb_data): embedded seekdb is not supported by this tool, " +
        'which talks to a database server over the MySQL protocol. Nothing was changed.',
    );
    expect(e.hint).toContain("ScriptManager.run('upgrade-sparse-vector', auto_config())");
    expect(e.hint).toContain('run seekdb as a server');
  });

  test("CLI in a powermem project whose .env is embedded seekdb's: exit 1 with that message", async () => {
    fs.writeFileSync(
      path.join(dir, '.env'),
      'DATABASE_PROVIDER=oceanbase\nOCEANBASE_HOST=\nOCEANBASE_PATH=./seekdb_data\nOCEANBASE_DATABASE=powermem\n',
    );
    const env = { ...process.env };
    for (const k of ['DATABASE_URL', 'OCEANBASE_HOST', 'OCEANBASE_PATH', 'SPARSE_TEST_DATABASE_URL']) delete env[k];
    const r = await run(
      process.execPath,
      [path.join(ROOT, 'bin', 'sparse-vector.js'), 'run', 'upgrade-sparse-vector'],
      { env, cwd: dir },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('embedded seekdb is not supported by this tool');
    expect(r.stderr).toContain("ScriptManager.run('upgrade-sparse-vector', auto_config())");
    expect(r.stderr).not.toContain('No database is configured');
  });
});
