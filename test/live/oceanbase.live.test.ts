import knexFactory, { Knex } from 'knex';
import { parseDatabaseUrl } from '../../src/config/connection-config';
import { resolveConfig } from '../../src/config/config';
import { doctor, formatDoctorReport } from '../../src/doctor/doctor';
import { mysql2Options } from '../../src/db/knex';
import { detectServer } from '../../src/db/server-info';
import { supportsNativeSparse } from '../../src/dialect/select-dialect';
import { createSparseMigrator } from '../../src/migrator/umzug';
import { openSchemaContext, readSchemaState } from '../../src/schema/sparse-schema';
import { createMemoryLogger } from '../../src/util/logger';
import { createMemoriesTable, insertSampleMemories } from '../../testing/sample-memories';

/**
 * Live suite against a real OceanBase >= 4.5.0 or seekdb server. It runs only when OCEANBASE_TEST_URL is
 * set (mysql://user:password@host:2881/database — a database the suite may create tables in), and says
 * clearly that it was skipped otherwise. It creates and drops its own table.
 */
const url = process.env.OCEANBASE_TEST_URL;
if (!url) {
  console.log(
    'SKIPPED: OceanBase/seekdb live suite (test/live). Set OCEANBASE_TEST_URL=mysql://user:pass@host:2881/db to run it.',
  );
}
const describeLive = url ? describe : describe.skip;
const table = `svm_live_${process.pid}`;

describeLive('live OceanBase/seekdb: native SPARSEVECTOR column, sparse index, APPROXIMATE search', () => {
  let knex: Knex;
  beforeAll(async () => {
    knex = knexFactory({
      client: 'mysql2',
      connection: mysql2Options(parseDatabaseUrl(url!, 'OCEANBASE_TEST_URL')),
      pool: { min: 0, max: 2 },
    });
    const server = await detectServer(knex);
    if (!supportsNativeSparse(server))
      throw new Error(`OCEANBASE_TEST_URL points at ${server.rawVersion}, which has no native sparse vectors`);
    // doctor first: every native statement form proven on this server before anything else runs.
    const report = await doctor({ config: resolveConfig({ databaseUrl: url!, storage: 'native' }, {}) });
    if (!report.ok) throw new Error(`doctor failed on ${report.server}:\n${formatDoctorReport(report).join('\n')}`);
    await createMemoriesTable(knex, table);
    await insertSampleMemories(knex, { table, count: 200 });
  });
  afterAll(async () => {
    await knex?.raw(`DROP TABLE IF EXISTS \`${table}\``);
    await knex?.raw('DROP TABLE IF EXISTS `svm_live_migrations`').catch(() => undefined);
    await knex?.raw('DROP TABLE IF EXISTS `svm_live_migrations_lock`').catch(() => undefined);
    await knex?.destroy();
  });

  test('upgrade adds SPARSEVECTOR and the sparse index; values round-trip; search uses APPROXIMATE; down removes both', async () => {
    const config = resolveConfig(
      { databaseUrl: url!, table, storage: 'native', migrationsTable: 'svm_live_migrations' },
      {},
    );
    const m = createSparseMigrator({ config, logger: createMemoryLogger() });
    try {
      await m.umzug.up();
      const ctx = await openSchemaContext(knex, config);
      const state = await readSchemaState(ctx);
      expect(state).toMatchObject({ upgraded: true, indexExists: true, column: { expectedType: true } });

      const [[row]] = await knex.raw(`SELECT id FROM \`${table}\` ORDER BY id LIMIT 1`);
      await knex.raw(`UPDATE \`${table}\` SET sparse_embedding = ? WHERE id = ?`, ['{40:0.25, 12:0.5}', row.id]);
      const [[back]] = await knex.raw(`SELECT sparse_embedding AS v FROM \`${table}\` WHERE id = ?`, [row.id]);
      expect(String(back.v)).toBe('{12:0.5,40:0.25}');
      expect(Array.from(ctx.dialect.decode(back.v).indices)).toEqual([12, 40]);

      const s = ctx.dialect.searchSql(ctx.target, ctx.dialect.decode('{12:1}'), 5);
      const [rows] = await knex.raw(s.sql, s.bindings);
      expect(String(rows[0].id)).toBe(String(row.id));
      expect(s.similarity(rows[0].score)).toBeCloseTo(0.5, 5);

      await m.umzug.down();
      expect((await readSchemaState(ctx)).column).toBeUndefined();
    } finally {
      await m.close();
    }
  });

  test('half-done states on the real server: column without index -> up adds only the index; index dropped -> down drops only the column', async () => {
    const config = resolveConfig(
      { databaseUrl: url!, table, storage: 'native', migrationsTable: 'svm_live_migrations' },
      {},
    );
    const ctx = await openSchemaContext(knex, config);
    await knex.raw(ctx.dialect.addColumnSql(ctx.target)); // a crash after ADD COLUMN
    expect(await readSchemaState(ctx)).toMatchObject({ indexExists: false, column: { expectedType: true } });
    const m = createSparseMigrator({ config, logger: createMemoryLogger() });
    try {
      await m.umzug.up();
      expect(await readSchemaState(ctx)).toMatchObject({ upgraded: true, indexExists: true });
      await knex.raw(ctx.dialect.dropIndexSql(ctx.target)); // a crash after DROP INDEX on the way down
      await m.umzug.down();
      expect(await readSchemaState(ctx)).toMatchObject({ indexExists: false, column: undefined });
    } finally {
      await m.close();
    }
  });

  test('backfill with the local embedder writes native sparse vectors that search finds', async () => {
    const { runSeeder } = await import('../../src/backfill');
    const { sparseSearch } = await import('../../src/search/sparse-search');
    const config = resolveConfig(
      {
        databaseUrl: url!,
        table,
        storage: 'native',
        migrationsTable: 'svm_live_migrations',
        seedsTable: 'svm_live_seeds',
      },
      {},
    );
    const m = createSparseMigrator({ config, logger: createMemoryLogger() });
    try {
      await m.umzug.up();
      const summary = await runSeeder({ config, workers: 2, batchSize: 50, delaySeconds: 0, progress: 'none' });
      expect(summary).toMatchObject({ ok: true, failed: 0, remaining: 0 });
      const [[one]] = await knex.raw(
        `SELECT id, document FROM \`${table}\` WHERE sparse_embedding IS NOT NULL ORDER BY id LIMIT 1`,
      );
      const hits = await sparseSearch({ config, query: String(one.document), limit: 5 });
      expect(hits.map((h) => h.id)).toContain(String(one.id));
      await m.umzug.down();
    } finally {
      await m.close();
      await knex.raw('DROP TABLE IF EXISTS `svm_live_seeds`').catch(() => undefined);
    }
  });
});
