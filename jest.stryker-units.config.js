/**
 * Jest for the first run of `npm run mutate` (stryker.units.config.mjs): the focused tests of the modules that
 * are a guarantee by themselves or in one statement (lock, retries, redaction, write guard, eligibility, ledger
 * writes, the seeder's decisions, the run loop and its worker slots), nothing else.
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/test/db/lock.test.ts',
    '<rootDir>/test/util/retry.test.ts',
    '<rootDir>/test/util/redact.test.ts',
    '<rootDir>/test/backfill/retry.test.ts',
    '<rootDir>/test/backfill/ledger-writes.test.ts',
    '<rootDir>/test/backfill/seed-decisions.test.ts',
    '<rootDir>/test/backfill/run-loop.test.ts',
    '<rootDir>/test/backfill/slots.test.ts',
  ],
  randomize: false,
  showSeed: false,
};
