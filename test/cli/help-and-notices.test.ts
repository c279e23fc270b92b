import { BACKFILL } from '../../src/options/table';
import { sparseVector, umzug } from '../support/cli';
import { createTestDatabase, oceanbaseBesidePostgresEnv, type TestDatabase } from '../support/db';

/** Help text with argparse's line wrapping undone. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('one help format: both CLIs on ts-command-line, flags from the option table', () => {
  test('npx umzug -h lists the commands that run (no `create`, which is refused)', async () => {
    const r = await umzug(['-h'], process.env);
    expect(r.code).toBe(0);
    const commands = [...r.stdout.matchAll(/^ {4}(\w+) /gm)].map((m) => m[1]);
    expect(commands).toEqual(['up', 'down', 'pending', 'executed', 'seed']);
    const create = await umzug(['create', '--name', 'x.ts'], process.env);
    expect(create.code).toBe(1);
    expect(create.stderr).toContain('Error [GENERATOR_REFUSED]');
  });

  test('`sparse-vector run -h` and `umzug seed -h` describe a flag with the same words, from the table', async () => {
    const words = '[1..10000; default 100; env SPARSE_BACKFILL_BATCH_SIZE]';
    for (const r of [await sparseVector(['run', '-h'], process.env), await umzug(['seed', '-h'], process.env)]) {
      expect(r.code).toBe(0);
      expect(flat(r.stdout)).toContain(`${BACKFILL.batchSize.flag} N ${BACKFILL.batchSize.help} ${words}`);
    }
    const top = await sparseVector(['--help'], process.env);
    expect(top.stdout).toMatch(/^usage: sparse-vector \[-h\] <command> \.\.\./);
    expect(flat(top.stdout)).toContain('search search <query> [--limit N]');
  });
});

describe('connection notices: npx sparse-vector prints them as npx umzug does', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('notices');
  });
  afterAll(async () => db.drop());

  test("OCEANBASE_* next to the app's postgres DATABASE_URL: the same Note line on stderr from both", async () => {
    const env = oceanbaseBesidePostgresEnv(db);
    const note =
      'Note: DATABASE_URL (postgres://…) is not a MySQL-protocol URL: ignored; using OCEANBASE_HOST/OCEANBASE_DATABASE.';
    const u = await umzug(['pending'], env);
    expect(u.stderr.split('\n')).toContain(note);
    for (const args of [
      ['verify', '--json'],
      ['search', 'teapot', '--json'],
      ['run', 'upgrade-sparse-vector'],
    ]) {
      const r = await sparseVector(args, env);
      expect(r.stderr.split('\n')).toContain(note);
    }
  });
});
