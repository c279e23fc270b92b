// StrykerJS, first of the two runs of `npm run mutate` (see stryker.config.mjs): the modules that are a guarantee
// by themselves, against their focused tests only (jest.stryker-units.config.js).
import flows from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...flows,
  mutate: [
    'src/db/lock.ts', // the advisory lock: GET_LOCK, busy/timeout, assertHeld before a ledger write, release
    'src/backfill/retry.ts', // which database errors are retried, and how often
    'src/util/retry.ts', // the retry loop itself (database statements and HTTP requests)
    'src/util/redact.ts', // secrets masked
  ],
  jest: { configFile: 'jest.stryker-units.config.js', enableFindRelatedTests: true },
  incrementalFile: 'reports/stryker-incremental-units.json',
  htmlReporter: { fileName: 'reports/mutation/units.html' },
  jsonReporter: { fileName: 'reports/mutation/units.json' },
  // These tests have no slow setup: a mutant that makes one hang is stopped soon.
  timeoutMS: 5000,
};
