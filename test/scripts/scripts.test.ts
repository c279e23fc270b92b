import path from 'node:path';
import { resolveConfig } from '../../src/config/config';
import { runScript, formatScriptList, parseScriptParams, findScript } from '../../src/scripts/manager';
import { sparseSearch } from '../../src/search/sparse-search';
import { createMemoryLogger } from '../../src/util/logger';
import { captureStream, checkTable } from '../support/backfill';
import { ROOT, run } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const cli = (args: string[], env: NodeJS.ProcessEnv) => run(process.execPath, [path.join(ROOT, 'bin', 'sparse-vector.js'), ...args], { env, timeoutMs: 90_000 });

describe('script manager: list / info / errors', () => {
  test('list groups the scripts by category with descriptions, as the guide prints them', async () => {
    const r = await cli(['list'], process.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(formatScriptList().join('\n') + '\n');
    expect(r.stdout).toContain('【Upgrade Scripts - Add new features or upgrade existing features】\n' + '-'.repeat(70) + '\n  • upgrade-sparse-vector\n    Add sparse vector support to OceanBase table (add sparse_embedding column and index)');
    expect(r.stdout).toContain('【Downgrade Scripts - Rollback features (usually destructive operations)】');
    expect(r.stdout).toContain('  • migrate-sparse-vector\n    Migrate historical data to add sparse vector embeddings');
  });

  test('info shows category, description and every parameter with type, default and required', async () => {
    const r = await cli(['info', 'migrate-sparse-vector'], process.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Script: migrate-sparse-vector\n' + '='.repeat(70) + '\nCategory: migration\nDescription: Migrate historical data to add sparse vector embeddings');
    expect(r.stdout).toContain('  batch_size (int, 1..10000) (optional, default: 100)');
    expect(r.stdout).toContain('  workers (int, 1..64) (optional, default: 1)');
    expect(r.stdout).toContain('  delay (float, 0..3600) (optional, default: 0.1)');
    expect(r.stdout).toContain('  dry_run (bool) (optional, default: false)');
  });

  test.each([
    [['info', 'no-such-script'], "Error [SCRIPT_UNKNOWN]: Unknown script 'no-such-script'.\n  Available scripts: upgrade-sparse-vector, migrate-sparse-vector, downgrade-sparse-vector."],
    [['run', 'migrate-sparse-vector', '--batch', '5'], "Error [SCRIPT_PARAMETER]: Unknown parameter 'batch' for script 'migrate-sparse-vector'.\n  Accepted: --batch-size (int), --workers (int), --delay (float), --dry-run (bool), --limit (int), --shard (string), --rerun (bool), --failures-file (string)."],
    [['run', 'migrate-sparse-vector', '--workers', 'three'], "Error [SCRIPT_PARAMETER]: Parameter 'workers' of script 'migrate-sparse-vector' must be a whole number (got \"three\")."],
    [['run', 'migrate-sparse-vector', '--batch-size', '0'], "Error [SCRIPT_PARAMETER]: Parameter 'batch_size' of script 'migrate-sparse-vector' is out of range (got \"0\")."],
    [['frobnicate'], "Error [SCRIPT_PARAMETER]: Unknown command 'frobnicate'."],
  ])('%j -> exit 2 with a clear error', async (args, message) => {
    const r = await cli(args as string[], { ...process.env, DATABASE_URL: 'mysql://u:p@127.0.0.1:1/db' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test('programmatic parameters accept the guide\'s snake_case keys and typed values', () => {
    const s = findScript('migrate-sparse-vector');
    expect(parseScriptParams(s, { batch_size: 50, workers: '3', dry_run: true })).toMatchObject({ batch_size: 50, workers: 3, delay: 0.1, dry_run: true });
    expect(() => parseScriptParams(s, { dry_run: 'maybe' })).toThrow("Parameter 'dry_run' of script 'migrate-sparse-vector' must be true or false");
  });
});

describe('the guide\'s workflow end to end (portable mode, real server)', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let before: string;
  beforeAll(async () => {
    db = await createTestDatabase('workflow');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 500, emptyRate: 0.01 });
    await db.knex('memories').insert({ id: '1900000000000000001', document: 'Grandma Rosalind keeps her porcelain teapot collection in the attic of the lighthouse' });
    const [rows] = await db.knex.raw('SHOW CREATE TABLE memories');
    before = rows[0]['Create Table'];
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterAll(async () => db.drop());

  test('verify before the upgrade exits 1 and says what to run', async () => {
    const r = await cli(['verify'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Column:      ✗ sparse_embedding missing');
    expect(r.stdout).toContain('The schema is not upgraded: run `npx sparse-vector run upgrade-sparse-vector`');
  });

  test('upgrade -> dry run -> migrate -> search returns the matching memory first', async () => {
    const up = await cli(['run', 'upgrade-sparse-vector'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('Preparing to execute script: upgrade-sparse-vector\nDescription: Add sparse vector support to OceanBase table (add sparse_embedding column and index)');
    expect(up.stdout).toContain("Adding sparse_embedding column to table 'memories'");
    expect(up.stdout).toContain("✓ Script 'upgrade-sparse-vector' executed successfully!");

    const dry = await cli(['run', 'migrate-sparse-vector', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('[DRY RUN] Mode enabled - will only test with 100 records');
    expect((await checkTable(db)).embedded).toBe(0);

    const migrate = await cli(['run', 'migrate-sparse-vector', '--batch-size', '100', '--workers', '3', '--delay', '0'], env);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('Thread pool size: 3');
    expect(migrate.stdout).toContain("✓ Script 'migrate-sparse-vector' executed successfully!");
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });

    const config = resolveConfig({ databaseUrl: db.url, storage: 'json' }, {});
    const logger = { ...createMemoryLogger(), debugLines: [] as string[] };
    logger.debug = (m: string) => void logger.debugLines.push(m);
    const hits = await sparseSearch({ config, query: 'where does grandma keep the porcelain teapots?', limit: 5, logger });
    expect(hits[0]).toMatchObject({ id: '1900000000000000001' });
    expect(hits[0].score).toBeGreaterThan(hits[1]?.score ?? 0);
    expect(logger.debugLines[0]).toMatch(/^Executing sparse vector search query with sparse_vector: \{\d+:[\d.]+(,\d+:[\d.]+)*\}$/);
    expect(logger.debugLines).toContain('_sparse_search results, len : 5');

    const verify = await cli(['verify', '--query', 'porcelain teapot lighthouse'], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/Rows: {8}501 total \| \d+ embedded \| 0 still NULL \| \d+ with empty text \| 0 failed in the last backfill run/);
    expect(verify.stdout).toMatch(/ {2}1\. \[[\d.]+\] id 1900000000000000001: Grandma Rosalind keeps her porcelain teapot collection in t…/);
  });

  test('downgrade refuses without --yes when not on a terminal; with --yes the table is as before the upgrade', async () => {
    const refused = await cli(['run', 'downgrade-sparse-vector'], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/This will permanently delete \d+ sparse vectors from table 'memories'/);
    expect(refused.stdout).toContain("✗ Script 'downgrade-sparse-vector' execution failed");
    expect(refused.stderr).toMatch(/Error \[CONFIRMATION_REQUIRED\]: Refusing to delete \d+ sparse vectors without confirmation: not running on a terminal\.\n {2}Run again with --yes to confirm\./);
    expect((await checkTable(db)).embedded).toBeGreaterThan(0);

    const done = await cli(['run', 'downgrade-sparse-vector', '--yes'], env);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("✓ Script 'downgrade-sparse-vector' executed successfully!");
    const [rows] = await db.knex.raw('SHOW CREATE TABLE memories');
    expect(rows[0]['Create Table']).toBe(before);
    expect(await db.knex("sparse_vector_migrations").select("name")).toEqual([]);
  });

  test('programmatic runScript frames the output like the guide', async () => {
    const out = captureStream();
    const config = resolveConfig({ databaseUrl: db.url, storage: 'json' }, {});
    await runScript('upgrade-sparse-vector', {}, { config, out, logger: { info: (m) => out.write(m + '\n'), warn: () => {}, debug: () => {} } });
    expect(out.text.split('\n')[0]).toBe('Preparing to execute script: upgrade-sparse-vector');
    expect(out.text).toContain("Sparse vector upgrade completed successfully for table 'memories'");
    expect(out.text.trim().split('\n').pop()).toBe("✓ Script 'upgrade-sparse-vector' executed successfully!");
  });
});
