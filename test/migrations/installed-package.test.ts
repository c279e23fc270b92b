import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, run } from '../support/cli';
import { resetSchema, upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, type TestDatabase } from '../support/db';

/**
 * `npx umzug` in an application that installs this package: the package's `umzug` bin is linked into the
 * app's node_modules/.bin, reads the app's .env from the app's directory, and runs the package's migrations.
 */
describe('npx umzug in an application that installs the package', () => {
  let db: TestDatabase;
  let app: string;
  beforeAll(async () => {
    db = await createTestDatabase('app');
    await createMemoriesTable(db.knex, 'notes');
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'svm-app-'));
    fs.writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({ name: 'some-app', version: '1.0.0', private: true }),
    );
    fs.writeFileSync(
      path.join(app, '.env'),
      `DATABASE_URL=${db.url}\nSPARSE_VECTOR_STORAGE=json\nOCEANBASE_COLLECTION=notes\n`,
    );
    // A directory install links the package (its dependencies resolve from its own node_modules).
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--offline', '--ignore-scripts', ROOT], {
      cwd: app,
      timeoutMs: 120_000,
    });
    expect(install.code).toBe(0);
  }, 150_000);
  afterAll(async () => {
    await db.drop();
    fs.rmSync(app, { recursive: true, force: true });
  });
  // Each test starts with an empty table before the upgrade (they run in any order).
  beforeEach(async () => {
    await resetSchema(db, 'notes');
    await db.knex('notes').del();
  });

  test('pending / up / executed use the app .env and the package migrations', async () => {
    expect(fs.existsSync(path.join(app, 'node_modules', '.bin', 'umzug'))).toBe(true);
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const pending = await run('npx', ['--no-install', 'umzug', 'pending'], { cwd: app, env });
    expect(pending.stdout.trim()).toBe('20250601000000_add_sparse_vector');
    const up = await run('npx', ['--no-install', 'umzug', 'up'], { cwd: app, env });
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("Sparse vector upgrade completed successfully for table 'notes'");
    const executed = await run('npx', ['--no-install', 'umzug', 'executed', '--json'], { cwd: app, env });
    expect(JSON.parse(executed.stdout).map((m: { name: string }) => m.name)).toEqual([
      '20250601000000_add_sparse_vector',
    ]);
    const [cols] = await db.knex.raw(
      "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'notes' AND COLUMN_NAME = 'sparse_embedding'",
    );
    expect(cols).toHaveLength(1);
  });

  test('the programmatic API from the package root: boot migrations, the seeder, sparse search', async () => {
    await upgrade(db, 'notes'); // so that the boot call finds the migration applied
    await db.knex('notes').insert([
      { id: 1, document: 'The user keeps bees on the roof of the garage' },
      { id: 2, document: 'The user prefers green tea in the morning' },
      { id: 3, document: '' },
    ]);
    const script = `
      const svm = require('sparse-vector-migration');
      (async () => {
        const boot = await svm.migrateToLatest();
        if (!boot.ok) throw boot.error;
        const config = svm.resolveConfig();
        const seeded = await svm.runSeeder({ config, delaySeconds: 0, progress: 'none' });
        const hits = await svm.sparseSearch({ config, query: 'bees on the roof', limit: 5 });
        const vector = svm.createSparseVector({ 7: 0.5, 3: 1 });
        console.log(JSON.stringify({ alreadyApplied: boot.alreadyApplied, migrated: seeded.migrated, ok: seeded.ok, skipped: seeded.skipped,
          first: hits[0] && hits[0].id, hits: hits.length, literal: svm.toOceanBaseLiteral(vector), providers: svm.EMBEDDER_PROVIDERS }));
      })().catch((e) => { console.error(String(e)); process.exit(1); });`;
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const r = await run(process.execPath, ['-e', script], { cwd: app, env });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({
      alreadyApplied: ['20250601000000_add_sparse_vector'],
      migrated: 2,
      ok: true,
      skipped: 1,
      first: '1',
      hits: 1, // the tea memory shares no term with the query
      literal: '{3:1,7:0.5}',
      providers: ['local', 'qwen', 'tei'],
    });
  });
});
