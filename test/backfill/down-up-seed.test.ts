import { backfillOnBoot, runSeeder } from '../../src/backfill';
import { BACKFILL_SEEDER, SeedLedger } from '../../src/backfill/seed-ledger';
import { migrateToLatest } from '../../src/migrator/migrate-on-boot';
import { createSparseMigrator } from '../../src/migrator/umzug';
import { silentLogger } from '../../src/util/logger';
import { checkTable, portableConfig } from '../support/backfill';
import { run, sparseVector, umzug, type CliResult } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/**
 * The seeds ledger's 'done' is a cache, never a reason to leave NULL rows: after down -> up (every vector
 * deleted), seed fills every eligible row again, through every entry point.
 */
const ROWS = 60;
const ledger = new SeedLedger('sparse_vector_seeds');
const npx = (args: string[], env: NodeJS.ProcessEnv) =>
  run('npx', ['--no-install', ...args], { env, timeoutMs: 120_000 });

function ok(r: CliResult): CliResult {
  if (r.code !== 0) throw new Error(`exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

describe('down -> up -> seed fills every eligible row again', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    db = await createTestDatabase('downup');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: ROWS, emptyRate: 0.05 });
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json', OCEANBASE_COLLECTION: 'memories', SPARSE_BACKFILL_DELAY: '0' });
  });
  afterEach(async () => db.drop());

  async function expectAllEmbedded(): Promise<void> {
    const c = await checkTable(db);
    expect(c).toMatchObject({ nullEligible: 0, wrong: [] });
    expect(c.embedded).toBeGreaterThan(ROWS / 2);
  }

  test('npx umzug up, seed, down, up, seed', async () => {
    ok(await umzug(['up'], env));
    ok(await umzug(['seed', '--progress', 'none'], env));
    await expectAllEmbedded();
    const down = ok(await umzug(['down'], env));
    expect(down.stdout).toContain(`Marked the backfill seeder ${BACKFILL_SEEDER} as not done in 'sparse_vector_seeds'`);
    expect((await ledger.get(db.knex, BACKFILL_SEEDER))?.status).toBe('incomplete');
    ok(await umzug(['up'], env));
    const seed = ok(await umzug(['seed', '--progress', 'plain'], env));
    expect(seed.stdout).not.toContain('already done');
    await expectAllEmbedded();
    expect(await ledger.get(db.knex, BACKFILL_SEEDER)).toMatchObject({ status: 'done', runs: 2 });
  });

  test('npx knex migrate:latest, seed:run, migrate:rollback, migrate:latest, seed:run', async () => {
    ok(await npx(['knex', 'migrate:latest'], env));
    ok(await npx(['knex', 'seed:run'], env));
    await expectAllEmbedded();
    ok(await npx(['knex', 'migrate:rollback'], env));
    expect((await ledger.get(db.knex, BACKFILL_SEEDER))?.status).toBe('incomplete');
    ok(await npx(['knex', 'migrate:latest'], env));
    const seed = ok(await npx(['knex', 'seed:run'], env));
    expect(seed.stdout).not.toContain('already done');
    await expectAllEmbedded();
  });

  test('sparse-vector run upgrade / migrate / downgrade --yes / upgrade / migrate', async () => {
    ok(await sparseVector(['run', 'upgrade-sparse-vector'], env));
    ok(await sparseVector(['run', 'migrate-sparse-vector', '--delay', '0'], env));
    await expectAllEmbedded();
    ok(await sparseVector(['run', 'downgrade-sparse-vector', '--yes'], env));
    expect((await ledger.get(db.knex, BACKFILL_SEEDER))?.status).toBe('incomplete');
    ok(await sparseVector(['run', 'upgrade-sparse-vector'], env));
    const seed = ok(await sparseVector(['run', 'migrate-sparse-vector', '--delay', '0'], env));
    expect(seed.stdout).not.toContain('already done');
    await expectAllEmbedded();
  });

  test('migrateToLatest + backfillOnBoot, the migrator API down, then the same boot again', async () => {
    const config = portableConfig(db);
    expect((await migrateToLatest({ databaseUrl: db.url, storage: 'json' })).ok).toBe(true);
    expect(await backfillOnBoot({ config, delaySeconds: 0 })).toMatchObject({ ok: true, remaining: 0 });
    await expectAllEmbedded();
    const m = createSparseMigrator({ config, logger: silentLogger });
    try {
      expect(await m.umzug.down()).toHaveLength(1);
    } finally {
      await m.close();
    }
    expect((await ledger.get(db.knex, BACKFILL_SEEDER))?.status).toBe('incomplete');
    expect((await migrateToLatest({ databaseUrl: db.url, storage: 'json' })).ok).toBe(true);
    const again = await backfillOnBoot({ config, delaySeconds: 0 });
    expect(again.skippedReason).toBeUndefined();
    expect(again).toMatchObject({ ok: true, remaining: 0 });
    await expectAllEmbedded();
  });

  test('a done ledger is checked against the table: a column dropped and added by another tool is filled again', async () => {
    const config = portableConfig(db);
    expect((await migrateToLatest({ databaseUrl: db.url, storage: 'json' })).ok).toBe(true);
    expect(await runSeeder({ config, delaySeconds: 0, progress: 'none' })).toMatchObject({ ok: true, remaining: 0 });
    expect((await ledger.get(db.knex, BACKFILL_SEEDER))?.status).toBe('done');
    // Another tool (e.g. powermem's own downgrade and upgrade) recreates the column: the ledger still says done.
    await db.knex.raw('ALTER TABLE memories DROP COLUMN sparse_embedding');
    await db.knex.raw('ALTER TABLE memories ADD COLUMN sparse_embedding JSON NULL');
    expect((await ledger.get(db.knex, BACKFILL_SEEDER))?.status).toBe('done');
    const seed = ok(await umzug(['seed', '--progress', 'plain'], env));
    expect(seed.stdout).toContain(
      `Seeder ${BACKFILL_SEEDER} is recorded as done, but table 'memories' has rows to embed again (NULL sparse_embedding): running.`,
    );
    await expectAllEmbedded();
    // Done and nothing waiting: the ledger is trusted (one probe, no run).
    const again = await runSeeder({ config, progress: 'none' });
    expect(again).toMatchObject({ skippedReason: 'already-done', migrated: 0 });
  });
});
