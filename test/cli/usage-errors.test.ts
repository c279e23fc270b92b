import { sparseVector, umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const MIGRATION = '20250601000000_add_sparse_vector';

/**
 * Usage errors: the flag and the value as typed, what is expected, a second line with the fix, exit 2, and
 * the same bad value gets the same message through every CLI (umzug seed, sparse-vector run).
 */
describe('usage errors name the flag and the value as typed, exit 2 everywhere', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    db = await createTestDatabase('usage');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 10 });
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterAll(async () => db.drop());

  const schema = async () => (await db.knex.raw('SHOW CREATE TABLE memories'))[0][0]['Create Table'];

  test.each([
    [
      ['--batch-size', ''],
      '--batch-size "" is not a whole number from 1 to 10000.',
      '  Pass a whole number from 1 to 10000, e.g. --batch-size 100.',
    ],
    [
      ['--batch-size', '0'],
      '--batch-size "0" is not a whole number from 1 to 10000.',
      '  Pass a whole number from 1 to 10000, e.g. --batch-size 100.',
    ],
    [
      ['--delay', ''],
      '--delay "" is not a number from 0 to 3600.',
      '  Pass a number from 0 to 3600, e.g. --delay 0.1.',
    ],
    [
      ['--delay', 'soon'],
      '--delay "soon" is not a number from 0 to 3600.',
      '  Pass a number from 0 to 3600, e.g. --delay 0.1.',
    ],
    [
      ['--workers', '0'],
      '--workers "0" is not a whole number from 1 to 64.',
      '  Pass a whole number from 1 to 64, e.g. --workers 1.',
    ],
    [
      ['--limit', '-1'],
      '--limit "-1" is not a whole number of 1 or more.',
      '  Pass a whole number of 1 or more, e.g. --limit 1.',
    ],
  ])('%j: the same two lines and exit 2 through umzug seed and sparse-vector run', async (flags, first, second) => {
    const before = await schema();
    for (const r of [
      await umzug(['seed', ...flags], env),
      await sparseVector(['run', 'migrate-sparse-vector', ...flags], env),
    ]) {
      const lines = r.stderr.trim().split('\n');
      expect(lines.slice(-2)).toEqual([`Error [USAGE]: ${first}`, second]);
      expect(r.code).toBe(2);
    }
    expect(await schema()).toBe(before);
  });

  test('umzug up --step -1 and --step 0 are refused; nothing is applied', async () => {
    for (const step of ['-1', '0']) {
      const r = await umzug(['up', '--step', step], env);
      expect(r.stderr.trim().split('\n')).toEqual([
        `Error [USAGE]: --step "${step}" is not a whole number of 1 or more.`,
        '  Pass a whole number of 1 or more, e.g. --step 1.',
      ]);
      expect(r.code).toBe(2);
    }
    expect(await db.knex.schema.hasColumn('memories', 'sparse_embedding')).toBe(false);
  });

  test('umzug up --to an unknown name lists the known names; with or without the extension it applies', async () => {
    const r = await umzug(['up', '--to', '20990101000000_nope.ts'], env);
    expect(r.stderr.trim().split('\n')).toEqual([
      'Error [USAGE]: --to "20990101000000_nope.ts" is not a migration of this package.',
      `  Known migrations: ${MIGRATION} (with or without the file extension).`,
    ]);
    expect(r.code).toBe(2);
    expect(await db.knex.schema.hasColumn('memories', 'sparse_embedding')).toBe(false);

    const up = await umzug(['up', '--to', `${MIGRATION}.ts`], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`== migrated ${MIGRATION}`);
    const down = await umzug(['down', '--to', `${MIGRATION}.js`], env);
    expect(down.code).toBe(0);
    expect(await db.knex.schema.hasColumn('memories', 'sparse_embedding')).toBe(false);
  });

  test("an unknown flag: the parser's message, then a second line with the fix", async () => {
    const r = await umzug(['up', '--tables', 'x'], env);
    expect(r.stderr.trim().split('\n').slice(-2)).toEqual([
      'umzug up: error: Unrecognized arguments: --tables x.',
      '  Run `npx umzug <command> --help` for the accepted options.',
    ]);
    expect(r.code).toBe(2);
  });
});
