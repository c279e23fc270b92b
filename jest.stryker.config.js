/**
 * Jest for the second run of `npm run mutate` (StrykerJS, see stryker.config.mjs): the project's jest settings, limited to the
 * test files that call the guarantee modules in process. Stryker mutates src/ inside its sandbox; the tests
 * that run the compiled CLIs (bin/ -> dist/) would run the unmutated build and could not kill a mutant, so
 * they are left out here (they run in `npm test`).
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: [
    // the seeder's locks, probe and ledger writes (runSeeder, seedLock, seed), on a table of 12 rows: the only file
    // the seeder's ranges need (its decisions are in the units run)
    '<rootDir>/test/backfill/seeder-runs.test.ts',
  ],
  // A fixed order: a mutant's result must not depend on the order the tests happened to run in.
  randomize: false,
  showSeed: false,
};
