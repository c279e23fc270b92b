// StrykerJS (`npm run mutate`): mutation testing of the modules that hold the guarantees of
// docs/reliability.md. Each mutant (a small change to the code) is run against the tests that cover it; a
// mutant no test notices is a guarantee no test holds. The summary of the last run is in docs/reliability.md.
import { execFileSync } from 'node:child_process';
import process from 'node:process';

// The tests need the private MariaDB (scripts/db.sh). Jest's global setup would start one per Stryker sandbox
// (a copy of the project under .stryker-tmp/), so the project's own server is started here and every test run
// is pointed at it.
if (!process.env.SPARSE_TEST_DATABASE_URL) {
  execFileSync('bash', ['scripts/db.sh', 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.env.SPARSE_TEST_DATABASE_URL = execFileSync('bash', ['scripts/db.sh', 'url'], { encoding: 'utf8' }).trim();
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // The code that holds each guarantee (file:lines); the rest of these files (status listings, counts for
  // `verify`, reporter text) is not a guarantee.
  mutate: [
    'src/db/lock.ts', // the advisory lock: GET_LOCK, busy/timeout, assertHeld before a ledger write, release
    'src/migrator/ledger.ts:24-88', // the migrations ledger's writes (one row per migration, guarded)
    'src/backfill/seed-ledger.ts:127-153', // the seeds ledger's start (a 'done' record stays done while it runs)
    'src/backfill/seed-ledger.ts:176-224', // its 'not done' after a downgrade, and the end with its 'done' condition
    'src/backfill/writer.ts', // the write guard (IS NULL and the text's hash), batched and per row
    'src/backfill/queries.ts:1-64', // which rows are eligible: the done probe, the shard condition
    'src/backfill/seeder.ts:55-168', // the seeder: busy, already-done, the run and its ledger
    'src/backfill/seeder.ts:201-212', // the done decision
    'src/backfill/retry.ts', // retries of lost connections and deadlocks
    'src/backfill/run-loop.ts:52-146', // the stop path: no new batch after a stop, batches in flight finished
    'src/backfill/slots.ts', // the stop path: every pipelined write settled
    'src/util/redact.ts', // secrets masked
  ],
  // Left out: string literals (an emptied SQL text fails every test; message text is not a guarantee), object
  // and array literals (options and error details). They tripled the run time for no guarantee checked.
  mutator: { excludedMutations: ['StringLiteral', 'ObjectLiteral', 'ArrayDeclaration'] },
  testRunner: 'jest',
  jest: { configFile: 'jest.stryker.config.js', enableFindRelatedTests: true },
  coverageAnalysis: 'perTest',
  // A mutant reached only while modules load (a module-level constant) or in a test file's beforeAll cannot be
  // matched to the tests that need it, so Stryker would run every test for it: about a minute each, over an
  // hour in all. Those are left out (reported as "ignored"); docs/reliability.md says how they are covered.
  ignoreStatic: true,
  // Mutants that do not compile are discarded before any test runs. The checker reads src/ only (what is
  // mutated): checking the tests and tools with every mutant too took longer than the tests.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.stryker.json',
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // The machine has 2 cores and the tests share one MariaDB server.
  concurrency: 2,
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: the database's files, the build (the tests that use it are not run), reports.
  ignorePatterns: ['.db', 'dist', 'coverage', 'reports', 'bench/results*.json'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // A mutant that makes a test hang is stopped after the test's own time x 1.5 + 3 s (and counts as detected).
  timeoutMS: 3000,
  thresholds: { high: 90, low: 80, break: null },
};
