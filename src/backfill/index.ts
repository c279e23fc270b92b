export { runBackfill, type BackfillSummary, type BackfillFailure } from './engine';
export { runSeeder, assertSeederSucceeded, BACKFILL_SEEDER, type SeederResult } from './seeder';
export { backfillOnBoot, type BackfillOnBootOptions, type BackgroundBackfill } from './boot';
export { parseShard, backfillOptionsFromEnv, DEFAULTS as BACKFILL_DEFAULTS, type BackfillOptions, type Shard, type ProgressStyle } from './options';
export type { BackfillProgress, WorkerStats } from './progress/model';
export { SeedLedger, type SeedRecord } from './seed-ledger';
export { countEligible } from './reader';
