// StrykerJS, first of the two runs of `npm run mutate` (see stryker.config.mjs): the code that is a guarantee by
// itself or in one statement, against its focused tests only (jest.stryker-units.config.js).
import flows, { declaration } from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...flows,
  mutate: [
    'src/db/lock.ts', // the advisory lock: GET_LOCK, busy/timeout, assertHeld before a ledger write, release
    'src/backfill/retry.ts', // which database errors are retried, and how often
    'src/util/retry.ts', // the retry loop itself (database statements and HTTP requests)
    'src/util/redact.ts', // secrets masked
    'src/backfill/writer.ts', // the write guard (IS NULL and the text's hash), batched and per row
    // the seeder's decisions: busy per shard, what a run does at its start given the ledger record (the embedder
    // check, the re-embed, trusting 'done' only after the probe), where it resumes, and the done decision at its end
    'src/backfill/seed-decisions.ts',
    // which rows are eligible: the done probe, the shard condition, the final count
    declaration('src/backfill/queries.ts', 'export function hasText('),
    declaration('src/backfill/queries.ts', 'export function eligibleWhere('),
    declaration('src/backfill/queries.ts', 'export function shardCondition('),
    declaration('src/backfill/queries.ts', 'export async function countEligible('),
    declaration('src/backfill/queries.ts', 'export async function hasEligibleRow('),
    // the seeds ledger: its start (a 'done' record stays done while it runs), 'not done' after a downgrade, and
    // the end with its 'done' condition
    declaration('src/backfill/seed-ledger.ts', 'async start('),
    declaration('src/backfill/seed-ledger.ts', 'async markNotDone('),
    declaration('src/backfill/seed-ledger.ts', 'async finish('),
    // the migrations ledger's writes (one row per migration, each after the lock check)
    declaration('src/migrator/ledger.ts', 'startRun('),
    declaration('src/migrator/ledger.ts', 'async logMigration('),
    declaration('src/migrator/ledger.ts', 'private async dropDuplicates('),
    declaration('src/migrator/ledger.ts', 'async unlogMigration('),
    // the stop path (no new batch after a stop, batches started finished), the sweep, the cap, the checkpoint's
    // watermark and the recount, on in-memory parts (test/backfill/run-loop); every pipelined write settled
    declaration('src/backfill/run-loop.ts', 'export class RunLoop'),
    declaration('src/backfill/run-loop.ts', 'class Recount'),
    'src/backfill/slots.ts',
  ],
  // Eight small test files: jest's search for the related ones (a dependency graph per mutant) costs more than it saves.
  jest: { configFile: 'jest.stryker-units.config.js', enableFindRelatedTests: false },
  incrementalFile: 'reports/stryker-incremental-units.json',
  htmlReporter: { fileName: 'reports/mutation/units.html' },
  jsonReporter: { fileName: 'reports/mutation/units.json' },
  // These tests have no slow setup: a mutant that makes one hang is stopped soon.
  timeoutMS: 5000,
};
