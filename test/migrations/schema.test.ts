import { ledgerTableFor, resolveConfig } from '../../src/config/config';
import { detectServer } from '../../src/db/server-info';
import type { SparseTarget } from '../../src/dialect/dialect';
import { PortableJsonDialect } from '../../src/dialect/portable-json';
import { migrateToLatest } from '../../src/migrator/migrate-on-boot';
import { createSparseMigrator } from '../../src/migrator/umzug';
import {
  downgradeSparseSchema,
  readSchemaState,
  upgradeSparseSchema,
  type SparseSchemaContext,
} from '../../src/schema/sparse-schema';
import { createMemoryLogger } from '../../src/util/logger';
import { resetSchema } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const MIGRATION = '20250601000000_add_sparse_vector';

async function showCreate(db: TestDatabase, table = 'memories'): Promise<string> {
  const [rows] = await db.knex.raw(`SHOW CREATE TABLE \`${table}\``);
  return rows[0]['Create Table'];
}

async function ledger(db: TestDatabase): Promise<Array<{ name: string; batch: number }>> {
  return db.knex('sparse_vector_migrations').select('name', 'batch').orderBy('id');
}

describe('schema migration on a real MariaDB server (portable mode)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('schema');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 50 });
  });
  afterAll(async () => db.drop());
  beforeEach(async () => resetSchema(db)); // each test starts before the upgrade (any order)

  const config = () => resolveConfig({ databaseUrl: db.url, storage: 'json' }, {});

  test('up / down / up cycle through Umzug, with the ledger following', async () => {
    const before = await showCreate(db);
    const logger = createMemoryLogger();
    const m = createSparseMigrator({ config: config(), logger });
    try {
      expect((await m.umzug.pending()).map((x) => x.name)).toEqual([MIGRATION]);
      expect((await m.umzug.up()).map((x) => x.name)).toEqual([MIGRATION]);
      expect(logger.lines).toEqual(
        expect.arrayContaining([
          "Starting sparse vector upgrade for table 'memories'",
          "Adding sparse_embedding column to table 'memories'",
          'sparse_embedding column added successfully',
          "Sparse vector upgrade completed successfully for table 'memories'",
        ]),
      );
      expect(await showCreate(db)).toMatch(
        /`sparse_embedding` longtext .*DEFAULT NULL CHECK \(json_valid\(`sparse_embedding`\)\)/,
      );
      expect(await ledger(db)).toEqual([{ name: MIGRATION, batch: 1 }]);
      const [nulls] = await db.knex.raw('SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NULL');
      expect(Number(nulls[0].n)).toBe(50);

      expect((await m.umzug.down()).map((x) => x.name)).toEqual([MIGRATION]);
      expect(await showCreate(db)).toBe(before);
      expect(await ledger(db)).toEqual([]);

      expect((await m.umzug.up()).map((x) => x.name)).toEqual([MIGRATION]);
      expect(await ledger(db)).toEqual([{ name: MIGRATION, batch: 1 }]);
    } finally {
      await m.close();
    }
  });

  test('a second up is a no-op, and so is re-running the migration body (ledger lost after a crash)', async () => {
    const m = createSparseMigrator({ config: config(), logger: createMemoryLogger() });
    try {
      await m.umzug.up();
      const schema = await showCreate(db);
      expect(await m.umzug.up()).toEqual([]);
      // Simulate a crash after the DDL but before the ledger write: the migration runs again.
      await db.knex('sparse_vector_migrations').delete();
      const logger = createMemoryLogger();
      const m2 = createSparseMigrator({ config: config(), logger });
      try {
        expect((await m2.umzug.up()).map((x) => x.name)).toEqual([MIGRATION]);
      } finally {
        await m2.close();
      }
      expect(logger.lines).toContain("sparse_embedding column already exists on table 'memories'");
      expect(await showCreate(db)).toBe(schema);
      expect((await ledger(db)).length).toBe(1);
    } finally {
      await m.close();
    }
  });

  test('the boot API returns a result object and applies nothing twice', async () => {
    const m = createSparseMigrator({ config: config(), logger: createMemoryLogger() });
    await m.umzug.down({ to: 0 });
    await m.close();
    const first = await migrateToLatest({ databaseUrl: db.url, storage: 'json' });
    expect(first).toMatchObject({ ok: true, applied: [MIGRATION], alreadyApplied: [] });
    expect(first.log).toContain('sparse_embedding column added successfully');
    const second = await migrateToLatest({ databaseUrl: db.url, storage: 'json' });
    expect(second).toMatchObject({ ok: true, applied: [], alreadyApplied: [MIGRATION] });
    const disabled = await migrateToLatest({ databaseUrl: db.url, storage: 'json', enabled: false });
    expect(disabled).toMatchObject({ ok: true, skipped: 'SPARSE_VECTOR_ENABLE is false', applied: [] });
  });
});

describe('boot API errors are values', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('bootErr');
    await createMemoriesTable(db.knex);
  });
  afterAll(async () => db.drop());
  beforeEach(async () => resetSchema(db));

  test('MariaDB without portable mode: clear error naming the server and version, nothing changed', async () => {
    const before = await showCreate(db);
    const result = await migrateToLatest({ databaseUrl: db.url, storage: 'native' });
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(
      /^The server is MariaDB \d+\.\d+\.\d+ \(VERSION\(\) = '[^']*MariaDB[^']*'\), which has no native sparse vectors: they need seekdb or OceanBase >= 4\.5\.0\. Nothing was changed\.$/,
    );
    expect(await showCreate(db)).toBe(before);
    expect(await db.knex.schema.hasTable('sparse_vector_migrations')).toBe(false);
  });

  test('missing table: error tells the user to create it first; no ledger row', async () => {
    const result = await migrateToLatest({ databaseUrl: db.url, storage: 'json', table: 'no_such_table' });
    expect(result.ok).toBe(false);
    expect(result.error?.message).toBe(`Table 'no_such_table' does not exist in database '${db.name}'.`);
    expect(await db.knex.schema.hasTable('sparse_vector_migrations')).toBe(false);
  });

  test('missing text column is reported before any DDL', async () => {
    const before = await showCreate(db);
    const result = await migrateToLatest({ databaseUrl: db.url, storage: 'json', textColumn: 'body' });
    expect(result.error?.message).toBe("Table 'memories' has no text column 'body'.");
    expect(await showCreate(db)).toBe(before);
  });

  test('sparse_embedding already present with another type is refused, table unchanged', async () => {
    await db.knex.raw('ALTER TABLE memories ADD COLUMN sparse_embedding VARCHAR(10) NULL');
    const before = await showCreate(db);
    const result = await migrateToLatest({ databaseUrl: db.url, storage: 'json' });
    expect(result.error?.message).toBe(
      "Table 'memories' already has a column 'sparse_embedding' of type varchar(10), but portable-json storage needs JSON. Nothing was changed.",
    );
    expect(await showCreate(db)).toBe(before);
    await db.knex.raw('ALTER TABLE memories DROP COLUMN sparse_embedding');
  });
});

/**
 * The half-done states need a dialect with an index. MariaDB has no sparse vector index, so this dialect
 * stands in for it with a real secondary index on the same column: the schema code's steps (check column,
 * add column, check index, create index; and the reverse) run unchanged against the real server.
 */
class IndexedTestDialect extends PortableJsonDialect {
  override readonly hasIndex = true;
  override createIndexSql(t: SparseTarget): string {
    return `CREATE INDEX \`${t.sparseIndex}\` ON \`${t.table}\` (\`${t.sparseColumn}\`(32))`;
  }
}

describe('half-done states are completed (up and down)', () => {
  let db: TestDatabase;
  let ctx: SparseSchemaContext;
  beforeAll(async () => {
    db = await createTestDatabase('halfdone');
    await createMemoriesTable(db.knex);
    const cfg = resolveConfig({ databaseUrl: db.url, storage: 'json' }, {});
    ctx = {
      knex: db.knex,
      dialect: new IndexedTestDialect(await detectServer(db.knex)),
      target: {
        table: cfg.table,
        idColumn: 'id',
        textColumn: 'document',
        sparseColumn: 'sparse_embedding',
        sparseIndex: 'sparse_embedding_idx',
      },
    };
  });
  afterAll(async () => db.drop());
  beforeEach(async () => resetSchema(db)); // no column, no index: each test makes the half-done state it needs

  test('column present, index missing -> up creates only the index', async () => {
    await db.knex.raw('ALTER TABLE memories ADD COLUMN sparse_embedding JSON NULL');
    expect(await readSchemaState(ctx)).toMatchObject({ indexExists: false, upgraded: false });
    const log = createMemoryLogger();
    const report = await upgradeSparseSchema(ctx, log);
    expect(report).toMatchObject({ columnAdded: false, indexCreated: true });
    expect(log.lines).toContain("sparse_embedding column already exists on table 'memories'");
    expect(log.lines).toContain('sparse_embedding_idx created successfully');
    expect(await readSchemaState(ctx)).toMatchObject({ indexExists: true, upgraded: true });
    expect(await upgradeSparseSchema(ctx, log)).toMatchObject({ columnAdded: false, indexCreated: false });
  });

  test('index already dropped, column still there -> down drops only the column', async () => {
    await upgradeSparseSchema(ctx, createMemoryLogger());
    await db.knex.raw('DROP INDEX sparse_embedding_idx ON memories');
    const report = await downgradeSparseSchema(ctx, createMemoryLogger());
    expect(report).toMatchObject({ indexDropped: false, columnDropped: true });
    expect((await readSchemaState(ctx)).column).toBeUndefined();
    expect(await downgradeSparseSchema(ctx, createMemoryLogger())).toMatchObject({
      indexDropped: false,
      columnDropped: false,
    });
  });

  test('full up then full down drop the index first, then the column', async () => {
    const up = await upgradeSparseSchema(ctx, createMemoryLogger());
    expect(up).toMatchObject({ columnAdded: true, indexCreated: true });
    const down = await downgradeSparseSchema(ctx, createMemoryLogger());
    expect(down.statements).toEqual([
      'DROP INDEX `sparse_embedding_idx` ON `memories`',
      'ALTER TABLE `memories` DROP COLUMN `sparse_embedding`',
    ]);
  });
});

describe('two memories tables in one database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('twotables');
    await createMemoriesTable(db.knex, 'memories');
    await createMemoriesTable(db.knex, 'notes');
  });
  afterAll(async () => db.drop());

  test('each table has its own ledger: upgrading one does not mark the other applied', async () => {
    const first = await migrateToLatest({ databaseUrl: db.url, storage: 'json', table: 'memories' });
    expect(first).toMatchObject({ ok: true, applied: [MIGRATION] });
    const second = await migrateToLatest({ databaseUrl: db.url, storage: 'json', table: 'notes' });
    expect(second).toMatchObject({ ok: true, applied: [MIGRATION], alreadyApplied: [] });
    const [cols] = await db.knex.raw(
      "SELECT TABLE_NAME AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'sparse_embedding' ORDER BY TABLE_NAME",
    );
    expect(cols.map((c: { t: string }) => c.t)).toEqual(['memories', 'notes']);
    expect(await db.knex('sparse_vector_migrations').pluck('name')).toEqual([MIGRATION]);
    expect(await db.knex('sparse_vector_migrations_notes').pluck('name')).toEqual([MIGRATION]);
  });

  test('ledger names: plain for memories, suffixed for another table, hashed when too long', () => {
    expect(ledgerTableFor('sparse_vector_migrations', 'memories')).toBe('sparse_vector_migrations');
    expect(ledgerTableFor('sparse_vector_seeds', 'notes')).toBe('sparse_vector_seeds_notes');
    const long = ledgerTableFor('sparse_vector_migrations', 'a_very_long_collection_name_for_memories_x');
    expect(long).toMatch(/^sparse_vector_migrations_[0-9a-f]{16}$/);
    expect(`${long}_lock`.length).toBeLessThanOrEqual(64);
    expect(resolveConfig({ databaseUrl: 'mysql://u@h/d', table: 'notes' }, {})).toMatchObject({
      migrationsTable: 'sparse_vector_migrations_notes',
      seedsTable: 'sparse_vector_seeds_notes',
    });
    expect(
      resolveConfig({ databaseUrl: 'mysql://u@h/d', table: 'notes' }, { SPARSE_MIGRATIONS_TABLE: 'my_ledger' }),
    ).toMatchObject({ migrationsTable: 'my_ledger' });
  });
});
