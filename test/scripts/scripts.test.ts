import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveConfig } from '../../src/config/config';
import { parseArgs } from '../../src/cli/sparse-vector-cli';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import {
  runScript,
  formatScriptList,
  parseScriptParams,
  findScript,
  listScripts,
  scriptInfo,
  ScriptManager,
} from '../../src/script-manager/manager';
import { sparseSearch } from '../../src/search/sparse-search';
import { createMemoryLogger } from '../../src/util/logger';
import { captureStream, checkTable, ledgerNames, resetSchema, upgradeAndBackfill } from '../support/backfill';
import { ROOT, run, sparseVector } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const cli = (args: string[], env: NodeJS.ProcessEnv) => sparseVector(args, env);

describe('script manager: list / info / errors', () => {
  test('list groups the scripts by category with descriptions, as the guide prints them', async () => {
    const r = await cli(['list'], process.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(formatScriptList().join('\n') + '\n');
    expect(r.stdout).toContain(
      '【Upgrade Scripts - Add new features or upgrade existing features】\n' +
        '-'.repeat(70) +
        '\n  • upgrade-sparse-vector\n    Add sparse vector support to OceanBase table (add sparse_embedding column and index)',
    );
    expect(r.stdout).toContain('【Downgrade Scripts - Rollback features (usually destructive operations)】');
    expect(r.stdout).toContain(
      '  • migrate-sparse-vector\n    Migrate historical data to add sparse vector embeddings',
    );
  });

  test('info shows category, description and every parameter with type, default and required', async () => {
    const r = await cli(['info', 'migrate-sparse-vector'], process.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'Script: migrate-sparse-vector\n' +
        '='.repeat(70) +
        '\nCategory: migration\nDescription: Migrate historical data to add sparse vector embeddings',
    );
    expect(r.stdout).toContain('  batch_size (int, 1..10000) (optional, default: 100)');
    // No fixed default: it depends on the embedder (1 local, 8 HTTP), said in the description.
    expect(r.stdout).toContain(
      '  workers (int, 1..64) (optional)\n      Number of concurrent workers (default 1 with the local embedder, 8 with an HTTP embedder)',
    );
    expect(r.stdout).toContain('  delay (float, 0..3600) (optional, default: 0.1)');
    expect(r.stdout).toContain('  dry_run (bool) (optional, default: false)');
  });

  test.each([
    [
      ['info', 'no-such-script'],
      "Error [SCRIPT_UNKNOWN]: Unknown script 'no-such-script'.\n  Available scripts: upgrade-sparse-vector, migrate-sparse-vector, downgrade-sparse-vector.",
    ],
    [
      ['run', 'migrate-sparse-vector', '--batch', '5'],
      "Error [SCRIPT_PARAMETER]: Unknown parameter 'batch' for script 'migrate-sparse-vector'.\n  Accepted: --batch-size (int), --workers (int), --delay (float), --dry-run (bool), --limit (int), --shard (string), --rerun (bool), --reembed (bool), --failures-file (string).",
    ],
    [
      ['run', 'migrate-sparse-vector', '--workers', 'three'],
      'Error [USAGE]: --workers "three" is not a whole number from 1 to 64.\n  Pass a whole number from 1 to 64, e.g. --workers 1.',
    ],
    [
      ['run', 'migrate-sparse-vector', '--batch-size', '0'],
      'Error [USAGE]: --batch-size "0" is not a whole number from 1 to 10000.',
    ],
    [
      ['run', 'migrate-sparse-vector', '--batch_size', '0'],
      'Error [USAGE]: --batch_size "0" is not a whole number from 1 to 10000.',
    ],
    [
      ['run', 'migrate-sparse-vector', '--dry-run', 'maybe'],
      'Error [USAGE]: --dry-run "maybe" is not true or false.\n  Pass true or false, e.g. --dry-run true.',
    ],
    [
      ['run', 'migrate-sparse-vector', 'extra'],
      "Error [SCRIPT_PARAMETER]: Unexpected argument 'extra': script parameters are options, e.g. --batch-size 100.",
    ],
    [
      ['run', 'upgrade-sparse-vector', '--workers', '3'],
      "Error [SCRIPT_PARAMETER]: Unknown parameter 'workers' for script 'upgrade-sparse-vector'.\n  Accepted: none.",
    ],
    [['run', 'no-such-script'], "Error [SCRIPT_UNKNOWN]: Unknown script 'no-such-script'."],
    [['run'], 'Error [SCRIPT_PARAMETER]: run needs a script name.'],
    [['info'], 'Error [SCRIPT_PARAMETER]: info needs a script name.'],
    [['list', '--all'], 'Error [SCRIPT_PARAMETER]: Unknown option --all. Accepted: none.'],
    [['frobnicate'], "Error [SCRIPT_PARAMETER]: Unknown command 'frobnicate'."],
    [[], 'Usage: npx sparse-vector <command>'],
  ])('%j -> exit 2 with a clear error', async (args, message) => {
    const r = await cli(args, { ...process.env, DATABASE_URL: 'mysql://u:p@127.0.0.1:1/db' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test('an ill-typed parameter names the flag and the value as typed, and what it takes', async () => {
    const r = await cli(['run', 'migrate-sparse-vector', '--delay', 'soon'], process.env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'Error [USAGE]: --delay "soon" is not a number from 0 to 3600.\n  Pass a number from 0 to 3600, e.g. --delay 0.1.\n',
    );
  });

  test('help prints the usage and exits 0', async () => {
    const r = await cli(['--help'], process.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('run <script> [--param value]');
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 failed (verify: schema not upgraded), 2 usage error.');
  });

  test('argument parsing: --k v, --k=v, boolean flags do not take a following word unless it is a boolean', () => {
    expect(parseArgs(['run', 'migrate-sparse-vector', '--batch_size', '50', '--dry-run', '--workers=3'])).toEqual({
      positional: ['run', 'migrate-sparse-vector'],
      flags: { batch_size: '50', 'dry-run': true, workers: '3' },
    });
    expect(parseArgs(['search', '--json', 'tea', 'time'])).toEqual({
      positional: ['search', 'tea', 'time'],
      flags: { json: true },
    });
    expect(parseArgs(['run', 'x', '--dry-run', 'false', '--yes'])).toEqual({
      positional: ['run', 'x'],
      flags: { 'dry-run': 'false', yes: true },
    });
    expect(parseArgs(['search', '--limit', '3', '--', '--weird query'])).toEqual({
      positional: ['search', '--weird query'],
      flags: { limit: '3' },
    });
  });

  test('programmatic API: listScripts / scriptInfo as data, ScriptManager prints like the guide', () => {
    expect(listScripts().map((s) => [s.name, s.category, s.destructive])).toEqual([
      ['upgrade-sparse-vector', 'upgrade', false],
      ['migrate-sparse-vector', 'migration', false],
      ['downgrade-sparse-vector', 'downgrade', true],
    ]);
    const info = scriptInfo('migrate-sparse-vector');
    expect(info.categoryTitle).toBe('Migration Scripts - Data migration or format conversion');
    expect(info.parameters.slice(0, 4).map((p) => [p.name, p.type, p.default, p.required])).toEqual([
      ['batch_size', 'int', 100, false],
      ['workers', 'int', undefined, false],
      ['delay', 'float', 0.1, false],
      ['dry_run', 'bool', false, false],
    ]);
    expect(() => scriptInfo('nope')).toThrow("Unknown script 'nope'.");
    const out = captureStream();
    ScriptManager.listScripts(out);
    expect(out.text.split('\n').slice(0, 3)).toEqual([
      '='.repeat(70),
      'sparse-vector-migration Available Scripts',
      '='.repeat(70),
    ]);
    const infoOut = captureStream();
    ScriptManager.info('upgrade-sparse-vector', infoOut);
    expect(infoOut.text).toContain('Script: upgrade-sparse-vector\n' + '='.repeat(70) + '\nCategory: upgrade\n');
  });

  test("programmatic parameters accept the guide's snake_case keys and typed values", () => {
    const s = findScript('migrate-sparse-vector');
    expect(parseScriptParams(s, { batch_size: 50, workers: '3', dry_run: true })).toMatchObject({
      batch_size: 50,
      workers: 3,
      delay: 0.1,
      dry_run: true,
    });
    expect(() => parseScriptParams(s, { dry_run: 'maybe' })).toThrow(
      "Parameter 'dry_run' of script 'migrate-sparse-vector' must be true or false",
    );
  });
});

describe("the guide's workflow end to end (portable mode, real server)", () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let before: string;
  beforeAll(async () => {
    db = await createTestDatabase('workflow');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 500, emptyRate: 0.01 });
    await db.knex('memories').insert({
      id: '1900000000000000001',
      document: 'Grandma Rosalind keeps her porcelain teapot collection in the attic of the lighthouse',
    });
    const [rows] = await db.knex.raw('SHOW CREATE TABLE memories');
    before = rows[0]['Create Table'];
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterAll(async () => db.drop());
  // Each test starts before the upgrade (they run in any order) and brings the state it needs.
  beforeEach(async () => resetSchema(db));

  test('verify before the upgrade exits 1 and says what to run', async () => {
    const r = await cli(['verify'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Column:      ✗ sparse_embedding missing');
    expect(r.stdout).toContain('The schema is not upgraded: run `npx sparse-vector run upgrade-sparse-vector`');
  });

  test('upgrade -> dry run -> migrate -> search returns the matching memory first', async () => {
    const up = await cli(['run', 'upgrade-sparse-vector'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(
      'Preparing to execute script: upgrade-sparse-vector\nDescription: Add sparse vector support to OceanBase table (add sparse_embedding column and index)',
    );
    expect(up.stdout).toContain("Adding sparse_embedding column to table 'memories'");
    expect(up.stdout).toContain("✓ Script 'upgrade-sparse-vector' executed successfully!");

    const dry = await cli(['run', 'migrate-sparse-vector', '--dry-run', '--batch_size', '50'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('[DRY RUN] Mode enabled - will only test with 100 records');
    expect((await checkTable(db)).embedded).toBe(0);

    const migrate = await cli(
      ['run', 'migrate-sparse-vector', '--batch-size', '100', '--workers', '3', '--delay', '0'],
      env,
    );
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('Thread pool size: 3');
    expect(migrate.stdout).toContain("✓ Script 'migrate-sparse-vector' executed successfully!");
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });

    const config = resolveConfig({ databaseUrl: db.url, storage: 'json' }, {});
    const logger = { ...createMemoryLogger(), debugLines: [] as string[] };
    logger.debug = (m: string) => void logger.debugLines.push(m);
    const hits = await sparseSearch({
      config,
      query: 'where does grandma keep the porcelain teapots?',
      limit: 5,
      logger,
    });
    expect(hits[0]).toMatchObject({ id: '1900000000000000001' });
    expect(hits[0].score).toBeGreaterThan(hits[1]?.score ?? 0);
    expect(logger.debugLines[0]).toMatch(
      /^Executing sparse vector search query with sparse_vector: \{\d+:[\d.]+(,\d+:[\d.]+)*\}$/,
    );
    expect(logger.debugLines).toContain('_sparse_search results, len : 5');

    const verify = await cli(['verify', '--query', 'porcelain teapot lighthouse'], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(
      /Rows: {8}501 total \| \d+ embedded \| 0 still NULL \| \d+ with empty text \| 0 failed in the last backfill run/,
    );
    expect(verify.stdout).toMatch(
      / {2}1\. \[[\d.]+\] id 1900000000000000001: Grandma Rosalind keeps her porcelain teapot collection in t…/,
    );
  });

  (existsSync('/usr/bin/script') ? test : test.skip)(
    'on a terminal, downgrade asks "Confirm to continue? (yes/no)"; "no" changes nothing',
    async () => {
      // util-linux `script` gives the CLI a pseudo-terminal as stdin/stdout; our "no" is typed into it.
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(ROOT, 'bin', 'sparse-vector.js'))} run downgrade-sparse-vector`;
      await upgradeAndBackfill(db);
      const r = await run('/usr/bin/script', ['-qec', command, '/dev/null'], { env, input: 'no\n', timeoutMs: 60_000 });
      const text = r.stdout.replace(/\r/g, '');
      expect(text).toMatch(/This will permanently delete \d+ sparse vectors from table 'memories'/);
      expect(text).toContain('Confirm to continue? (yes/no)');
      expect(text).toContain(
        "✗ Script 'downgrade-sparse-vector' execution failed\nError [CONFIRMATION_REQUIRED]: Downgrade cancelled: nothing was changed.",
      );
      expect(r.code).toBe(1);
      expect((await checkTable(db)).embedded).toBeGreaterThan(0);
      expect(await db.knex('sparse_vector_migrations').pluck('name')).toEqual(['20250601000000_add_sparse_vector']);
    },
  );

  test('downgrade refuses without --yes when not on a terminal; with --yes the table is as before the upgrade', async () => {
    await upgradeAndBackfill(db);
    const refused = await cli(['run', 'downgrade-sparse-vector'], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/This will permanently delete \d+ sparse vectors from table 'memories'/);
    expect(refused.stdout).toContain("✗ Script 'downgrade-sparse-vector' execution failed");
    expect(refused.stderr).toMatch(
      /Error \[CONFIRMATION_REQUIRED\]: Refusing to delete \d+ sparse vectors without confirmation: not running on a terminal\.\n {2}Run again with --yes to confirm\./,
    );
    expect((await checkTable(db)).embedded).toBeGreaterThan(0);

    const done = await cli(['run', 'downgrade-sparse-vector', '--yes'], env);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("✓ Script 'downgrade-sparse-vector' executed successfully!");
    const [rows] = await db.knex.raw('SHOW CREATE TABLE memories');
    expect(rows[0]['Create Table']).toBe(before);
    expect(await db.knex('sparse_vector_migrations').select('name')).toEqual([]);
  });

  test('with nothing installed, downgrade has nothing to do; a column the ledger does not know is dropped only after confirmation', async () => {
    const none = await cli(['run', 'downgrade-sparse-vector'], env);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain(
      "Sparse vector support is not installed on table 'memories' (no migration applied): nothing to downgrade",
    );

    // As left by powermem's own upgrade script: a column, no ledger entry.
    await createMemoriesTable(db.knex, 'legacy');
    await db.knex.raw('ALTER TABLE legacy ADD COLUMN sparse_embedding JSON NULL');
    const [before] = await db.knex.raw('SHOW CREATE TABLE legacy');
    const r = await cli(['run', 'downgrade-sparse-vector'], { ...env, OCEANBASE_COLLECTION: 'legacy' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "the upgrade was made outside this tool: 'sparse_vector_migrations_legacy' does not record it",
    );
    expect(r.stderr).toContain(
      'Error [CONFIRMATION_REQUIRED]: Refusing to delete 0 sparse vectors without confirmation: not running on a terminal.',
    );
    const [after] = await db.knex.raw('SHOW CREATE TABLE legacy');
    expect(after[0]['Create Table']).toBe(before[0]['Create Table']);
    const yes = await cli(['run', 'downgrade-sparse-vector', '--yes'], { ...env, OCEANBASE_COLLECTION: 'legacy' });
    expect(yes.code).toBe(0);
    expect(await db.knex.schema.hasColumn('legacy', 'sparse_embedding')).toBe(false);
    await db.knex.schema.dropTable('legacy');
  });

  test('upgrade again after a downgrade: the backfill embeds every row again (the downgrade reset the seeder ledger)', async () => {
    const config = resolveConfig({ databaseUrl: db.url, storage: 'json' }, {});
    await upgradeAndBackfill(db);
    expect(await db.knex('sparse_vector_seeds').pluck('status')).toEqual(['done']);
    const yes = captureStream();
    expect(await runScript('downgrade-sparse-vector', { yes: true }, { config, out: yes })).toMatchObject({ ok: true });
    expect(yes.text).toContain(
      "Marked the backfill seeder 20250601000100_backfill_sparse_vector as not done in 'sparse_vector_seeds' (its vectors are being deleted)",
    );
    const out = captureStream();
    expect(await runScript('upgrade-sparse-vector', {}, { config, out })).toMatchObject({ ok: true });
    const migrate = await runScript(
      'migrate-sparse-vector',
      { delay: 0, 'batch-size': 200 },
      { config, out, embedder: new LocalSparseEmbedder() },
    );
    expect(migrate).toMatchObject({ ok: true, result: { ok: true } });
    expect(out.text).not.toContain('already done');
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
    expect(await db.knex('sparse_vector_seeds').pluck('status')).toEqual(['done']);
  });

  test("a failing script: the guide's failure line, and the error returned (not printed, not thrown)", async () => {
    const config = resolveConfig({ databaseUrl: db.url, storage: 'json', table: 'missing_table' }, {});
    const out = captureStream();
    const run = await runScript('upgrade-sparse-vector', {}, { config, out });
    expect(run).toMatchObject({ ok: false, script: 'upgrade-sparse-vector', error: { code: 'TABLE_MISSING' } });
    expect(out.text).toMatch(/\n✗ Script 'upgrade-sparse-vector' execution failed\n$/);
    expect(out.text).not.toContain('TABLE_MISSING');
    expect(await ledgerNames(db)).toEqual([]);
    // Unknown scripts and bad parameters are returned as errors too, before anything is printed.
    const unknown = captureStream();
    expect(await runScript('no-such-script', {}, { config, out: unknown })).toMatchObject({
      ok: false,
      error: { code: 'SCRIPT_UNKNOWN' },
    });
    expect(unknown.text).toBe('');
  });

  test("through the CLI the failed script's error is printed once, on stderr, after the failure line", async () => {
    const r = await cli(['run', 'upgrade-sparse-vector'], { ...env, OCEANBASE_COLLECTION: 'missing_table' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✗ Script 'upgrade-sparse-vector' execution failed");
    expect(r.stderr.match(/Error \[TABLE_MISSING\]/g)).toHaveLength(1);
  });

  test('programmatic runScript frames the output like the guide', async () => {
    const out = captureStream();
    const config = resolveConfig({ databaseUrl: db.url, storage: 'json' }, {});
    await runScript(
      'upgrade-sparse-vector',
      {},
      { config, out, logger: { info: (m) => out.write(m + '\n'), warn: () => {}, debug: () => {} } },
    );
    expect(out.text.split('\n')[0]).toBe('Preparing to execute script: upgrade-sparse-vector');
    expect(out.text).toContain("Sparse vector upgrade completed successfully for table 'memories'");
    expect(out.text.trim().split('\n').pop()).toBe("✓ Script 'upgrade-sparse-vector' executed successfully!");
  });
});
