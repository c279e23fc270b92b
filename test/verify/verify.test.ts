import { toPortableJson } from '../../src/sparse/sparse-vector';
import { runSeeder } from '../../src/backfill';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { verifySparseVector, formatVerifyReport } from '../../src/verify/verify';
import { failingFor, portableConfig, resetSchema, upgrade, upgradeAndBackfill } from '../support/backfill';
import { sparseVector } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const MIGRATION = '20250601000000_add_sparse_vector';
const LONG_ID = '1900000000000000042';
const LONG_TEXT =
  'Uncle Bartholomew restores antique harpsichords in a converted windmill near the estuary every winter';

describe('verify: ledger, schema, row counts and a sample search', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    sparseVector(['verify', ...args], { ...env, ...extra }, 60_000);

  beforeAll(async () => {
    db = await createTestDatabase('verify');
    await createMemoriesTable(db.knex);
    // 120 rows, 3 of them with empty or blank text.
    await insertSampleMemories(db.knex, { count: 117, emptyRate: 0 });
    await db.knex('memories').insert([
      { id: '1900000000000000001', document: '' },
      { id: '1900000000000000002', document: '   ' },
      { id: '1900000000000000003', document: null },
      { id: LONG_ID, document: LONG_TEXT },
    ]);
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterAll(async () => db.drop());
  beforeEach(async () => resetSchema(db)); // each test starts before the upgrade (any order)

  test('before the upgrade: exit 1, the migration is pending, the column missing, the backfill never run', async () => {
    const r = await cli([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Migrations:  applied: (none); pending: ${MIGRATION}\n`);
    expect(r.stdout).toContain('Column:      ✗ sparse_embedding missing\n');
    expect(r.stdout).toContain(
      'Rows:        121 total | 0 embedded | 118 still NULL | 3 with empty text | 0 failed in the last backfill run\n',
    );
    expect(r.stdout).toContain('Backfill:    never run\n');
    expect(r.stdout).toContain(
      'The schema is not upgraded: run `npx sparse-vector run upgrade-sparse-vector` (or `npx umzug up`).',
    );
    expect(r.stdout).not.toContain('Search "');

    const json = await cli(['--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({
      table: 'memories',
      storage: 'json',
      upgraded: false,
      migrations: { applied: [], pending: [MIGRATION] },
      schema: { tableExists: true, indexExists: false, upgraded: false, dialect: 'portable-json', hasIndex: false },
      rows: { total: 121, embedded: 0, stillNull: 118, emptyText: 3, failedLastRun: 0 },
      results: [],
    });
    expect(report.seeder).toBeUndefined();
  });

  test('a missing table: exit 1 and says so', async () => {
    const r = await cli([], { OCEANBASE_COLLECTION: 'no_such_table' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Table 'no_such_table' does not exist");
  });

  test('after the upgrade and a backfill with failures: counts from the table and the seeds ledger', async () => {
    await upgrade(db);
    // Rows whose text mentions the cello fail to embed: they stay NULL and are counted as failed.
    const cello = Number((await db.knex('memories').where('document', 'like', '%cello%').count({ n: '*' }))[0].n);
    expect(cello).toBeGreaterThan(0);
    const summary = await runSeeder({
      config: portableConfig(db),
      embedder: failingFor('cello'),
      batchSize: 10,
      delaySeconds: 0,
      progress: 'none',
      embedAttempts: 1,
    });
    expect(summary.failed).toBe(cello);

    const report = await verifySparseVector({
      config: portableConfig(db),
      query: 'harpsichords in a windmill',
      limit: 3,
    });
    expect(report.upgraded).toBe(true);
    expect(report.migrations).toEqual({ applied: [MIGRATION], pending: [] });
    expect(report.seeder).toMatchObject({ status: 'incomplete', runs: 1, failed: cello, migrated: 118 - cello });
    expect(report.rows).toEqual({
      total: 121,
      embedded: 118 - cello,
      stillNull: cello,
      emptyText: 3,
      failedLastRun: cello,
    });
    expect(report.results[0]).toEqual({
      id: LONG_ID,
      text: LONG_TEXT,
      score: expect.any(Number),
      similarity: expect.any(Number),
    });
    expect(report.results.length).toBeLessThanOrEqual(3);

    const lines = formatVerifyReport(report);
    expect(lines).toContain('Column:      ✓ sparse_embedding (longtext)');
    expect(lines).toContain(
      `Rows:        121 total | ${118 - cello} embedded | ${cello} still NULL | 3 with empty text | ${cello} failed in the last backfill run`,
    );
    expect(lines).toContain(
      `             ${cello} rows with text have no vector yet: run \`npx sparse-vector run migrate-sparse-vector\``,
    );
    expect(lines.find((l) => l.startsWith('Backfill:'))).toMatch(
      /^Backfill: {4}incomplete \(runs: 1, last: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)$/,
    );
    // The snippet is about 60 characters.
    expect(lines).toContain(`  1. [${report.results[0].score.toFixed(4)}] id ${LONG_ID}: ${LONG_TEXT.slice(0, 59)}…`);
  });

  test('the CLI after a complete backfill: exit 0, top-k of the default query, DEBUG lines with LOG_LEVEL=debug', async () => {
    await upgrade(db);
    await runSeeder({
      config: portableConfig(db),
      embedder: new LocalSparseEmbedder(),
      rerun: true,
      delaySeconds: 0,
      progress: 'none',
    });
    const r = await cli(['--query', 'Bartholomew harpsichords', '--limit', '4'], { LOG_LEVEL: 'debug' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Migrations:  applied: ${MIGRATION}; pending: (none)\n`);
    expect(r.stdout).toContain(
      'Rows:        121 total | 118 embedded | 0 still NULL | 3 with empty text | 0 failed in the last backfill run\n',
    );
    expect(r.stdout).toMatch(
      /Backfill: {4}done \(runs: 1, [^\n]*\nEmbedder: {4}local bm25-fnv1a-v2 \(index space 500000\) \(recorded for the stored vectors\)\nIDF stats: {3}✓ sparse_vector_term_stats: \d+ vectors counted[^\n]*\n\n/,
    );
    expect(r.stdout).toMatch(/DEBUG: Executing sparse vector search query with sparse_vector: \{[\d:.,]+\}\n/);
    expect(r.stdout).toContain('DEBUG: _sparse_search results, len : 1\n');
    expect(r.stdout).toContain('Search "Bartholomew harpsichords": 1 results\n');
    expect(r.stdout).toMatch(new RegExp(`  1\\. \\[\\d+\\.\\d{4}\\] id ${LONG_ID}: Uncle Bartholomew`));

    // Without --query the sample query is the guide's "test query": a memory about it must come first.
    const text = 'The user ran a test query against the staging cluster';
    await db.knex('memories').insert({
      id: '42',
      document: text,
      sparse_embedding: toPortableJson(new LocalSparseEmbedder().embed(text, 'document')),
    });
    try {
      const byDefault = await cli(['--json']);
      expect(byDefault.code).toBe(0);
      const report = JSON.parse(byDefault.stdout);
      expect(report.query).toBe('test query');
      expect(report.upgraded).toBe(true);
      expect(report.results[0]).toMatchObject({ id: '42', text });
      expect(report.results.length).toBeLessThanOrEqual(10);
    } finally {
      await db.knex('memories').where({ id: '42' }).delete();
    }
  });

  test('rows that lost their vector after the backfill was recorded as done: verify says to rerun', async () => {
    await upgradeAndBackfill(db);
    await db.knex('memories').where({ id: LONG_ID }).update({ sparse_embedding: null });
    const r = await cli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '             1 rows with text have no vector although the backfill is recorded as done: run `npx sparse-vector run migrate-sparse-vector`\n',
    );
  });

  test.each([
    [['--limit', '0'], 'Error [USAGE]: --limit "0" is not a whole number from 1 to 16384.'],
    [['--query'], 'Error [SCRIPT_PARAMETER]: --query needs a value.'],
    [['--table', 'x'], 'Error [SCRIPT_PARAMETER]: Unknown option --table. Accepted: --query, --limit, --json.'],
  ])('%j -> exit 2', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
