/** The backfill: engine (runBackfill), tracked seeder (runSeeder), boot API (backfillOnBoot). See docs/backfill.md. */
export { runBackfill, type BackfillSummary, type BackfillFailure, type DryRunReport } from './engine';
export { runSeeder, assertSeederSucceeded, BACKFILL_SEEDER, type SeederResult } from './seeder';
export { backfillOnBoot, type BackfillOnBootOptions, type BackgroundBackfill } from './backfill-on-boot';
export {
  parseShard,
  backfillOptionsFromEnv,
  backfillValuesFromEnv,
  withLimitRule,
  checkBackfillNumbers,
  DEFAULTS as BACKFILL_DEFAULTS,
  LIMITS as BACKFILL_LIMITS,
  PROGRESS_STYLES,
  type BackfillOptions,
  type Shard,
  type ProgressStyle,
} from './options';
export type { BackfillProgress, WorkerStats } from './progress/model';
export { createRenderer, type ProgressRenderer } from './progress/renderers';
export { SeedLedger, type SeedRecord, type SeedStatus } from './seed-ledger';
export { countEligible, eligibleWhere } from './queries';
