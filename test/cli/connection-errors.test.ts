import path from 'node:path';
import { ROOT, run, sparseVector, umzug, type CliResult } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/db';

/** A stack frame as node prints one ("    at Packet.asError (…)"), on any line of any output. */
const STACK_FRAME = /^\s+at \S.*(\(|:\d+)/m;

/** Every line of a --json command's standard output must be a JSON value (an empty output has no lines). */
function expectJsonLines(stdout: string): void {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
}

/** Expected failures: connection refused, wrong password, unknown database. */
function failures(db: TestDatabase): Array<[string, string, RegExp]> {
  const refused = new URL(db.url);
  refused.port = '1';
  const auth = new URL(db.url);
  auth.password = 'wrong-password-123';
  const unknown = new URL(db.url);
  unknown.pathname = '/no_such_database_here';
  return [
    ['connection refused', refused.toString(), /the connection was refused/],
    ['wrong password', auth.toString(), /access was denied/],
    ['unknown database', unknown.toString(), /the database does not exist/],
  ];
}

const COMMANDS: Array<{ name: string; exec: (env: NodeJS.ProcessEnv) => Promise<CliResult>; json?: boolean }> = [
  { name: 'umzug up', exec: (env) => umzug(['up'], env) },
  { name: 'umzug down', exec: (env) => umzug(['down'], env) },
  { name: 'umzug pending', exec: (env) => umzug(['pending'], env) },
  { name: 'umzug pending --json', exec: (env) => umzug(['pending', '--json'], env), json: true },
  { name: 'umzug executed --json', exec: (env) => umzug(['executed', '--json'], env), json: true },
  { name: 'umzug seed', exec: (env) => umzug(['seed'], env) },
  { name: 'umzug seed --json', exec: (env) => umzug(['seed', '--json'], env), json: true },
  { name: 'sparse-vector verify', exec: (env) => sparseVector(['verify'], env) },
  { name: 'sparse-vector verify --json', exec: (env) => sparseVector(['verify', '--json'], env), json: true },
  { name: 'sparse-vector search --json', exec: (env) => sparseVector(['search', 'teapot', '--json'], env), json: true },
  {
    name: 'sparse-vector run upgrade-sparse-vector',
    exec: (env) => sparseVector(['run', 'upgrade-sparse-vector'], env),
  },
  {
    name: 'sparse-vector run migrate-sparse-vector',
    exec: (env) => sparseVector(['run', 'migrate-sparse-vector'], env),
  },
  {
    name: 'sparse-vector run downgrade-sparse-vector --yes',
    exec: (env) => sparseVector(['run', 'downgrade-sparse-vector', '--yes'], env),
  },
  {
    name: 'migrateToLatest() and backfillOnBoot()',
    exec: (env) =>
      run(
        process.execPath,
        [
          '-e',
          `
        const { migrateToLatest, backfillOnBoot } = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'index.js'))});
        (async () => {
          const m = await migrateToLatest();
          const b = await backfillOnBoot();
          process.stderr.write(String(m.error && m.error.message) + '\\n' + String(b.error && b.error.message) + '\\n');
          process.exit(m.ok || b.ok ? 0 : 1);
        })();`,
        ],
        { env },
      ),
  },
];

/**
 * Expected failures (refused, auth, unknown database) print one clear error and no stack trace on any output
 * of any command; knex's own "Acquire connection error … at Packet.asError" log stays out. With --json,
 * standard output stays JSON lines.
 */
describe('connection errors: one clear message, no stack trace, --json stays JSON', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('connerr');
  });
  afterAll(async () => db.drop());

  test.each([0, 1, 2])(
    'failure kind #%i through every command',
    async (i) => {
      const [, url, message] = failures(db)[i];
      const env = { ...process.env, DATABASE_URL: url, SPARSE_VECTOR_STORAGE: 'json', LOG_LEVEL: 'info' };
      for (const command of COMMANDS) {
        const r = await command.exec(env);
        const shown = `${command.name}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
        expect([shown, r.code]).toEqual([shown, 1]);
        expect(`${r.stdout}\n${r.stderr}`).not.toMatch(STACK_FRAME);
        expect(r.stdout).not.toContain('Acquire connection error');
        expect([shown, message.test(r.stderr)]).toEqual([shown, true]);
        if (command.json) expectJsonLines(r.stdout);
      }
    },
    300_000,
  );
});
