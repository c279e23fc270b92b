import path from 'node:path';
import { checkTable, upgrade } from '../support/backfill';
import { ROOT, run } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const example = (name: string, args: string[], env: NodeJS.ProcessEnv) =>
  run(process.execPath, [path.join(ROOT, 'dist', 'examples', `${name}.js`), ...args], { env, timeoutMs: 120_000 });

describe('examples run against the local server', () => {
  let db: TestDatabase;
  // A fresh, empty database for each test (they run in any order).
  beforeEach(async () => {
    db = await createTestDatabase('examples');
  });
  afterEach(async () => db.drop());

  test('complete-migration fails with a non-zero exit code when the table is missing (no --create-sample)', async () => {
    const r = await example('complete-migration', ['--yes'], db.env());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✗ Script 'upgrade-sparse-vector' execution failed");
    expect(r.stderr).toContain("Error [TABLE_MISSING]: Table 'memories' does not exist");
    expect(r.stdout).not.toContain('Step 4: Test Migration (dry-run)');
  });

  test('complete-migration: list, info, upgrade, dry run, migrate, verify search', async () => {
    const env = db.env();
    delete env.SPARSE_VECTOR_STORAGE;
    const r = await example(
      'complete-migration',
      ['--create-sample', '--yes', '--query', 'green tea in the morning'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const step of [
      'Step 1: List Available Scripts',
      'Step 3: Run Schema Upgrade Script',
      'Step 4: Test Migration (dry-run)',
      'Step 6: Verify Search',
    ]) {
      expect(r.stdout).toContain(step);
    }
    expect(r.stdout).toContain('mariadb detected: using portable mode (SPARSE_VECTOR_STORAGE=json).');
    expect(r.stdout).toContain("✓ Script 'migrate-sparse-vector' executed successfully!");
    expect(r.stdout).toContain('DEBUG: Executing sparse vector search query with sparse_vector:');
    expect(r.stdout).toMatch(
      /DEBUG: _sparse_search results, len : 10\n\n✓ Search returned 10 results\n {2}Sparse vector search is active/,
    );
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
  });

  test('npm run demo (dist/examples/demo.js): no embedder configured -> the local one, offline; a second run changes nothing', async () => {
    const demoDb = await createTestDatabase('demo');
    try {
      const env = demoDb.env({ SPARSE_VECTOR_STORAGE: 'json' });
      for (const k of Object.keys(env)) if (/^(SPARSE_EMBEDDER_|DASHSCOPE_)/.test(k)) delete env[k];
      const first = await example('demo', [], env);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('Embedder: local (bm25-fnv1a-v2)');
      expect(first.stdout).toMatch(
        /Sparse search: "who is allergic to peanuts\?"\n=+\n {2}1\. \[\d+\.\d+\] .*allergic to peanuts/,
      );
      expect(first.stdout).toContain('batch 1  20250601000000_add_sparse_vector');
      expect(first.stdout).toMatch(
        /Seeds ledger \(sparse_vector_seeds\): 20250601000100_backfill_sparse_vector done, runs 1, last run embedded \d+, failed 0/,
      );
      const after = await checkTable(demoDb);
      expect(after).toMatchObject({ wrong: [], nullEligible: 0 });
      expect(after.rows).toBeGreaterThanOrEqual(200);

      const second = await example('demo', [], env);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('Applied now: (nothing: already up to date)');
      expect(second.stdout).toContain('Total records to migrate: 0');
      expect(await checkTable(demoDb)).toEqual(after);
    } finally {
      await demoDb.drop();
    }
  });

  test('boot: migrations at start, background backfill, clean shutdown', async () => {
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 300 });
    await upgrade(db);
    // No --run-for: the example ends when its backfill does (a timer would cut a slow run short).
    const r = await example('boot', [], db.env({ SPARSE_VECTOR_STORAGE: 'json' }));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[boot] migrations: applied 0 (none), already applied 1');
    expect(r.stdout).toMatch(/\[boot\] serving on http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toMatch(/\[boot\] backfill finished: \d+ embedded, 0 failed, 0 still NULL/);
    expect(r.stdout).toContain('[boot] shut down cleanly');
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
  });
});
