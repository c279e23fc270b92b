// StrykerJS (`npm run mutate`): mutation testing of the modules that hold the guarantees of
// docs/reliability.md. Each mutant (a small change to the code) is run against the tests that cover it; a
// mutant no test notices is a guarantee no test holds. The summary of the last run is in docs/reliability.md.
//
// Two runs, one after the other (`npm run mutate`):
// - stryker.units.config.mjs: the code that is a guarantee by itself or in one statement (the lock, the retry
//   loop and its policies, redaction, the write guard, eligibility and shards, the ledgers' writes, the seeder's
//   decisions, the run loop's stop path and its worker slots), against its focused tests only (test/db/lock,
//   test/util/*, test/backfill/retry, ledger-writes, seed-decisions, run-loop, slots): they decide each mutant in a
//   second or two. With the flow tests too, every such mutant also ran the slow flow tests that merely pass through
//   the code (a backfill writes, logs and locks), several seconds each.
// - this file: the guarantees that only a whole run shows (the seeder's locks, probe and ledger writes around
//   its decisions), against the in-process flow tests (jest.stryker.config.js).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import process from 'node:process';

// The tests need the private MariaDB (scripts/db.sh). Jest's global setup would start one per Stryker sandbox
// (a copy of the project under .stryker-tmp/), so the project's own server is started here and every test run
// is pointed at it.
if (!process.env.SPARSE_TEST_DATABASE_URL) {
  execFileSync('bash', ['scripts/db.sh', 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.env.SPARSE_TEST_DATABASE_URL = execFileSync('bash', ['scripts/db.sh', 'url'], { encoding: 'utf8' }).trim();
}

/**
 * `file:first-last`, the lines of the declaration in `file` whose first line starts with `head` (after its
 * indentation) down to its closing brace at the same indentation. Derived from the code at every run, so the
 * mutated parts follow the code as it changes (line numbers written here went stale); a declaration that is
 * no longer found stops the run instead of mutating the wrong lines.
 */
export function declaration(file, head) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const first = lines.findIndex((l) => l.trimStart().startsWith(head));
  if (first < 0) throw new Error(`stryker.config.mjs: no declaration starting with "${head}" in ${file}`);
  const indent = lines[first].length - lines[first].trimStart().length;
  const last = lines.findIndex((l, i) => i > first && l === `${' '.repeat(indent)}}`);
  if (last < 0) throw new Error(`stryker.config.mjs: the end of "${head}" in ${file} was not found`);
  return `${file}:${first + 1}-${last + 1}`;
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // The code that holds each guarantee: whole files where the file is the guarantee, else the declarations that
  // hold it (see declaration()); the rest of those files (status listings, counts for `verify`, reporter text,
  // progress estimates) is not a guarantee.
  mutate: [
    // the seeder's I/O around its decisions (those are in the units run: seed-decisions.ts): the locks (busy, a
    // downgrade, released), the done probe, the ledger's start and end, a failed setup, the checkpoint
    declaration('src/backfill/seeder.ts', 'export async function runSeeder('),
    declaration('src/backfill/seeder.ts', 'async function seedLock('),
    declaration('src/backfill/seeder.ts', 'async function seed('),
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
  incrementalFile: 'reports/stryker-incremental-flows.json',
  // The machine has 2 cores and the tests share one MariaDB server.
  concurrency: 2,
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: the database's files, the build (the tests that use it are not run), reports.
  ignorePatterns: ['.db', 'dist', 'coverage', 'reports', 'bench/results*.json'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/flows.html' },
  jsonReporter: { fileName: 'reports/mutation/flows.json' },
  // A mutant that makes a test hang is stopped after the covering tests' own time x 1.5 + timeoutMS (and
  // counts as detected). The tests' time Stryker measures leaves out their files' setup (a database, an
  // upgrade: seconds), so with 3 s most mutants of the flows "timed out" without hanging, each costing a restart
  // of the test runner; 15 s covers the setup.
  timeoutMS: 15000,
  thresholds: { high: 90, low: 80, break: null },
};
