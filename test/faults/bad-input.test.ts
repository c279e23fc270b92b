import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, run, umzug, type CliResult } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const API_KEY = 'sk-BADINPUT-0a1b2c3d4e5f';
const umzugBin = path.join(ROOT, 'bin', 'umzug.js');
const svBin = path.join(ROOT, 'bin', 'sparse-vector.js');

interface Case {
  name: string;
  bin?: string;
  args: string[];
  env?: Record<string, string>;
  /** Prepare the database (run before the snapshot). */
  setup?: (db: TestDatabase) => Promise<void>;
  /** The first line of standard error, exactly (with {db} for the database name). */
  error: string;
  code?: number;
}

/**
 * Bad input: each case asserts the exact error text, a non-zero exit code, and that the database is exactly
 * as it was (tables, schema, data checksum). Every run carries an API key and a password: neither may appear.
 */
const cases: Case[] = [
  {
    name: 'unknown embedder provider',
    args: ['seed'],
    env: { SPARSE_EMBEDDER_PROVIDER: 'openai' },
    error: 'Error [EMBEDDER_CONFIG]: Unknown sparse embedder provider "openai".',
  },
  {
    name: 'qwen without an API key',
    args: ['seed'],
    env: { SPARSE_EMBEDDER_PROVIDER: 'qwen', SPARSE_EMBEDDER_API_KEY: '' },
    error: 'Error [EMBEDDER_CONFIG]: The qwen sparse embedder needs an API key.',
  },
  {
    name: 'table name with a backtick',
    args: ['up'],
    env: { OCEANBASE_COLLECTION: 'mem`ories' },
    error:
      'Error [IDENTIFIER_INVALID]: Invalid table name "mem`ories" (from OCEANBASE_COLLECTION): names may contain only letters, digits, "_" and "$", must not start with a digit, and are at most 64 characters.',
  },
  {
    name: 'table name with a quote',
    args: ['up'],
    env: { OCEANBASE_COLLECTION: "mem'ories" },
    error:
      'Error [IDENTIFIER_INVALID]: Invalid table name "mem\'ories" (from OCEANBASE_COLLECTION): names may contain only letters, digits, "_" and "$", must not start with a digit, and are at most 64 characters.',
  },
  {
    name: 'table name with a semicolon',
    args: ['up'],
    env: { OCEANBASE_COLLECTION: 'memories;DROP TABLE memories' },
    error:
      'Error [IDENTIFIER_INVALID]: Invalid table name "memories;DROP TABLE memories" (from OCEANBASE_COLLECTION): names may contain only letters, digits, "_" and "$", must not start with a digit, and are at most 64 characters.',
  },
  {
    name: 'table name with a space',
    args: ['up'],
    env: { OCEANBASE_COLLECTION: 'my memories' },
    error:
      'Error [IDENTIFIER_INVALID]: Invalid table name "my memories" (from OCEANBASE_COLLECTION): names may contain only letters, digits, "_" and "$", must not start with a digit, and are at most 64 characters.',
  },
  {
    name: 'table missing',
    args: ['up'],
    env: { OCEANBASE_COLLECTION: 'notes' },
    error: "Error [TABLE_MISSING]: Table 'notes' does not exist in database '{db}'.",
  },
  {
    name: 'text column missing',
    args: ['up'],
    env: { OCEANBASE_TEXT_FIELD: 'content' },
    error: "Error [COLUMN_MISSING]: Table 'memories' has no text column 'content'.",
  },
  {
    name: 'sparse_embedding present with another type',
    args: ['up'],
    setup: (db) => db.knex.raw('ALTER TABLE memories ADD COLUMN sparse_embedding INT NULL'),
    error:
      "Error [COLUMN_TYPE_MISMATCH]: Table 'memories' already has a column 'sparse_embedding' of type int(11), but portable-json storage needs JSON. Nothing was changed.",
  },
  {
    name: 'batch size 0',
    args: ['seed', '--batch-size', '0'],
    error: 'Error [USAGE]: --batch-size "0" is not a whole number from 1 to 10000.',
    code: 2,
  },
  {
    name: 'batch size negative',
    args: ['seed', '--batch-size', '-5'],
    error: 'Error [USAGE]: --batch-size "-5" is not a whole number from 1 to 10000.',
    code: 2,
  },
  {
    name: 'batch size not a number',
    args: ['seed', '--batch-size', 'many'],
    error: 'Error [USAGE]: --batch-size "many" is not a whole number from 1 to 10000.',
    code: 2,
  },
  {
    name: 'workers 0',
    args: ['seed', '--workers', '0'],
    error: 'Error [USAGE]: --workers "0" is not a whole number from 1 to 64.',
    code: 2,
  },
  {
    name: 'workers absurdly high',
    args: ['seed', '--workers', '100000'],
    error: 'Error [USAGE]: --workers "100000" is not a whole number from 1 to 64.',
    code: 2,
  },
  {
    name: 'negative delay',
    args: ['seed', '--delay', '-0.5'],
    error: 'Error [USAGE]: --delay "-0.5" is not a number from 0 to 3600.',
    code: 2,
  },
  {
    name: 'unreachable host',
    args: ['up'],
    env: { DATABASE_URL: 'mysql://svm:svm-local@127.0.0.1:1/nowhere' },
    error:
      'Error [CONNECTION_FAILED]: Cannot connect to mysql://svm:****@127.0.0.1:1/nowhere: the connection was refused (is the server running, and is the port right?) [ECONNREFUSED].',
  },
  {
    name: 'wrong password',
    args: ['up'],
    env: { DATABASE_URL: 'WRONG_PASSWORD' },
    error:
      'Error [CONNECTION_FAILED]: Cannot connect to mysql://svm:****@127.0.0.1:{port}/{db}: access was denied (wrong user name or password) [ER_ACCESS_DENIED_ERROR].',
  },
  {
    name: 'unsupported server without portable mode',
    args: ['up'],
    env: { SPARSE_VECTOR_STORAGE: 'native' },
    error:
      "Error [UNSUPPORTED_SERVER]: The server is MariaDB {version} (VERSION() = '{rawVersion}'), which has no native sparse vectors: they need seekdb or OceanBase >= 4.5.0. Nothing was changed.",
  },
  {
    name: 'dims the model does not offer',
    args: ['seed'],
    env: { SPARSE_EMBEDDER_PROVIDER: 'qwen', SPARSE_EMBEDDER_DIMS: '1000' },
    error: 'Error [EMBEDDER_CONFIG]: SPARSE_EMBEDDER_DIMS=1000 is not a dimension DashScope text-embedding-v4 offers.',
  },
  {
    name: 'unknown CLI flag',
    args: ['up', '--tables', 'x'],
    error: 'umzug up: error: Unrecognized arguments: --tables x.',
    code: 2,
  },
  {
    name: '--to a migration that does not exist',
    args: ['up', '--to', '20990101000000_nope'],
    error: 'Error [USAGE]: --to "20990101000000_nope" is not a migration of this package.',
    code: 2,
  },
  {
    name: 'SPARSE_VECTOR_ENABLE=maybe',
    args: ['up'],
    env: { SPARSE_VECTOR_ENABLE: 'maybe' },
    error: 'Error [CONFIG_INVALID]: SPARSE_VECTOR_ENABLE="maybe" is not a boolean.',
  },
  {
    name: 'SPARSE_VECTOR_STORAGE=sparse',
    args: ['up'],
    env: { SPARSE_VECTOR_STORAGE: 'sparse' },
    error: 'Error [CONFIG_INVALID]: SPARSE_VECTOR_STORAGE="sparse" is not one of: native, json.',
  },
  {
    name: 'malformed DATABASE_URL',
    args: ['up'],
    env: { DATABASE_URL: 'postgres://x@y/z' },
    error: 'Error [CONFIG_INVALID]: DATABASE_URL has the scheme "postgres:", which is not a MySQL-protocol URL.',
  },
  {
    name: 'invalid shard',
    args: ['seed', '--shard', '2/2'],
    error: 'Error [USAGE]: --shard "2/2" is not a shard "i/n" with 0 <= i < n <= 1024.',
    code: 2,
  },
  {
    name: 'unknown script',
    bin: svBin,
    args: ['run', 'upgrade-sparse-vectors'],
    error: "Error [SCRIPT_UNKNOWN]: Unknown script 'upgrade-sparse-vectors'.",
    code: 2,
  },
  {
    name: 'ill-typed script parameter',
    bin: svBin,
    args: ['run', 'migrate-sparse-vector', '--dry-run', 'perhaps'],
    error: 'Error [USAGE]: --dry-run "perhaps" is not true or false.',
    code: 2,
  },
  {
    name: 'backfill before the upgrade',
    args: ['seed'],
    error: "Error [SCHEMA_NOT_UPGRADED]: Table 'memories' has no JSON column 'sparse_embedding' yet.",
  },
];

describe('bad input: exact error, non-zero exit, database unchanged, no secret printed', () => {
  let db: TestDatabase;
  let version: { version: string; raw: string };
  beforeAll(async () => {
    db = await createTestDatabase('badinput');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 30 });
    const [[v]] = await db.knex.raw('SELECT VERSION() AS v');
    version = { raw: v.v, version: /^(\d+\.\d+\.\d+)/.exec(v.v)![1] };
  });
  afterAll(async () => db.drop());

  async function snapshot(): Promise<string> {
    const [tables] = await db.knex.raw('SHOW TABLES');
    const [create] = await db.knex.raw('SHOW CREATE TABLE memories');
    const [sum] = await db.knex.raw('CHECKSUM TABLE memories');
    return JSON.stringify([tables, create[0]['Create Table'], sum[0].Checksum]);
  }

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    if (c.setup) await c.setup(db);
    const before = await snapshot();
    const url = new URL(db.url);
    const env: Record<string, string> = { SPARSE_VECTOR_STORAGE: 'json', SPARSE_EMBEDDER_API_KEY: API_KEY, ...c.env };
    if (env.DATABASE_URL === 'WRONG_PASSWORD') {
      const wrong = new URL(db.url);
      wrong.password = 'not-the-password-77';
      env.DATABASE_URL = wrong.toString();
    }
    const r: CliResult = await run(process.execPath, [c.bin ?? umzugBin, ...c.args], { env: db.env(env) });
    const expected = c.error
      .replace('{db}', db.name)
      .replace('{port}', url.port)
      .replace('{version}', version.version)
      .replace('{rawVersion}', version.raw);
    expect(r.stderr.split('\n')[0]).toBe(expected);
    expect(r.stderr.split('\n')[1]).toMatch(/^ {2}\S/); // the second line: how to fix it
    expect(r.code).toBe(c.code ?? 1);
    expect(await snapshot()).toBe(before);
    const all = r.stdout + r.stderr;
    for (const secret of [API_KEY, url.password, 'not-the-password-77']) expect(all).not.toContain(secret);
    if (c.setup) await db.knex.raw('ALTER TABLE memories DROP COLUMN sparse_embedding');
  });
});

describe('bad values in a .env file (not the environment): the same errors, nothing changed', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase('dotenv');
    await createMemoriesTable(db.knex);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svm-dotenv-'));
  });
  afterAll(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['SPARSE_VECTOR_ENABLE=maybe', ['up'], 'Error [CONFIG_INVALID]: SPARSE_VECTOR_ENABLE="maybe" is not a boolean.'],
    [
      'SPARSE_BACKFILL_WORKERS=lots',
      ['seed'],
      'Error [CONFIG_INVALID]: SPARSE_BACKFILL_WORKERS="lots" is not an integer between 1 and 64.',
    ],
    [
      'OCEANBASE_COLLECTION=mem`ories',
      ['up'],
      'Error [IDENTIFIER_INVALID]: Invalid table name "mem`ories" (from OCEANBASE_COLLECTION): names may contain only letters, digits, "_" and "$", must not start with a digit, and are at most 64 characters.',
    ],
    [
      'SPARSE_EMBEDDER_PROVIDER=qwen\nSPARSE_EMBEDDER_DIMS=1000\nDASHSCOPE_API_KEY=sk-DOTENV-1234567',
      ['seed'],
      'Error [EMBEDDER_CONFIG]: SPARSE_EMBEDDER_DIMS=1000 is not a dimension DashScope text-embedding-v4 offers.',
    ],
  ])('%s', async (line, args, error) => {
    fs.writeFileSync(path.join(dir, '.env'), `DATABASE_URL=${db.url}\nSPARSE_VECTOR_STORAGE=json\n${line}\n`);
    const [before] = await db.knex.raw('SHOW TABLES');
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^(DATABASE_URL|OCEANBASE_|SPARSE_|DASHSCOPE_)/.test(k)) delete env[k];
    const r = await umzug(args, env, undefined, dir);
    expect(r.stderr.split('\n')[0]).toBe(error);
    expect(r.code).toBe(1);
    expect((await db.knex.raw('SHOW TABLES'))[0]).toEqual(before);
    expect(r.stdout + r.stderr).not.toContain('sk-DOTENV-1234567');
  });
});

describe('unusual texts are data, not errors', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('texts');
    await createMemoriesTable(db.knex);
  });
  afterAll(async () => db.drop());

  test('empty, NULL, whitespace and very large texts: large ones embedded, the others stay NULL, exit 0', async () => {
    const big = 'The user mentioned the lighthouse again. '.repeat(50_000); // ~2 MB
    await db.knex('memories').insert([
      { id: 1, document: '' },
      { id: 2, document: null },
      { id: 3, document: ' \n\t ' },
      { id: 4, document: big },
      { id: 5, document: 'a normal memory about tea' },
    ]);
    const env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
    expect((await run(process.execPath, [umzugBin, 'up'], { env })).code).toBe(0);
    const r = await run(process.execPath, [umzugBin, 'seed', '--delay', '0', '--progress', 'plain'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Migrated: 2 | Failed: 0');
    expect(r.stdout).toContain('Rows with an empty text (left NULL): 3');
    const rows = await db.knex('memories').select('id').whereNotNull('sparse_embedding').orderBy('id');
    expect(rows.map((x: { id: string }) => Number(x.id))).toEqual([4, 5]);
    // Never retried: the next run finds nothing to do (done, no eligible row), not three rows to try again.
    const again = await run(process.execPath, [umzugBin, 'seed', '--delay', '0', '--progress', 'plain'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no row is waiting: nothing to do');
  });
});
