import type { Knex } from 'knex';
import type { SparseVectorConfig } from '../config/config';
import { describeFingerprint } from '../embedders/fingerprint';
import { SparseVectorError } from '../errors';
import { failpoint } from '../util/failpoint';
import type { SparseTarget } from '../dialect/dialect';
import { hasStoredVector } from './queries';
import { BACKFILL_SEEDER, SeedLedger, type SeedRecord } from './seed-ledger';

/*
 * One embedding space per column. The seeds ledger records the fingerprint of the embedder that wrote the
 * table's vectors (embedder_fingerprint); a backfill or a search with another embedder is refused, since
 * an inner product of vectors from two spaces means nothing. The way to change the embedder is the
 * re-embed (reembed.ts): while it runs, the ledger also records where it is going (reembed_to).
 */

const REEMBED_COMMAND = '`npx umzug seed --reembed` (API: runSeeder({ reembed: true }))';

/** The backfill's ledger record, for the embedding space (undefined: no ledger, no record). */
export async function readSpaceRecord(knex: Knex, config: SparseVectorConfig): Promise<SeedRecord | undefined> {
  return new SeedLedger(config.seedsTable).get(knex, BACKFILL_SEEDER);
}

function where(config: SparseVectorConfig): string {
  return `${config.table}.${config.sparseColumn}`;
}

/**
 * A backfill with the embedder `current` (canonicalFingerprint): refused when the stored vectors are of
 * another embedder, or when a re-embed into another one is in progress. `reembed`: this run is a re-embed
 * (a recorded space different from `current` is what it changes).
 */
export function checkBackfillSpace(
  record: SeedRecord | undefined,
  current: string,
  config: SparseVectorConfig,
  reembed: boolean,
): void {
  const recorded = record?.embedder_fingerprint;
  const target = record?.reembed_to;
  if (target) {
    if (target === current) return;
    throw new SparseVectorError(
      'EMBEDDER_CHANGED',
      `A re-embed of ${where(config)} from ${describeFingerprint(recorded ?? '(not recorded)')} to ${describeFingerprint(target)} is in progress; this run's embedder is ${describeFingerprint(current)}. Nothing was changed.`,
      {
        hint: `Finish the re-embed with the embedder ${describeFingerprint(target)}: run ${REEMBED_COMMAND} with it again (it resumes at its checkpoint).`,
      },
    );
  }
  if (!recorded || recorded === current || reembed) return;
  throw changed(config, recorded, current, 'backfill');
}

/**
 * A search with the embedder `current`: refused when the stored vectors are of another embedder. While a
 * re-embed runs, both its source and its target are accepted (the column then holds both: results mix the
 * two until it completes). Nothing recorded (a table backfilled elsewhere, e.g. by powermem): allowed.
 */
export function checkSearchSpace(record: SeedRecord | undefined, current: string, config: SparseVectorConfig): void {
  const recorded = record?.embedder_fingerprint;
  if (!recorded || recorded === current || record?.reembed_to === current) return;
  throw changed(config, recorded, current, 'search');
}

function changed(
  config: SparseVectorConfig,
  recorded: string,
  current: string,
  what: 'backfill' | 'search',
): SparseVectorError {
  const action = what === 'backfill' ? 'this backfill' : 'this search';
  return new SparseVectorError(
    'EMBEDDER_CHANGED',
    `The vectors in ${where(config)} were made by ${describeFingerprint(recorded)}, but ${action} uses ${describeFingerprint(current)}: vectors of two embedders cannot be compared. Nothing was changed.`,
    {
      hint: `Set the embedder back to ${describeFingerprint(recorded)} (SPARSE_EMBEDDER_* settings), or re-embed the whole table with the new one: ${REEMBED_COMMAND}; see docs/embedders.md, "Changing the embedder".`,
    },
  );
}

/** Where releaseEmptySpace looks and what it may ask. */
export interface EmptySpaceContext {
  knex: Knex;
  ledger: SeedLedger;
  target: SparseTarget;
  /** Says what changed (the run's reporter). */
  say: (message: string) => void;
  /** Whether another backfill of the table runs now; asked only when the record would be forgotten. */
  otherRunActive: () => Promise<boolean>;
}

/**
 * A recorded embedder with no vector stored (a first run that wrote nothing, e.g. its embedder was
 * unreachable) claims no space: it is forgotten, so that a run with another embedder (`current`) is not
 * refused for vectors that do not exist; not while another run is active. Returns the record as it now stands.
 */
export async function releaseEmptySpace(
  { knex, ledger, target, say, otherRunActive }: EmptySpaceContext,
  record: SeedRecord | undefined,
  current: string,
): Promise<SeedRecord | undefined> {
  const recorded = record?.embedder_fingerprint;
  if (!record || !recorded || recorded === current || record.reembed_to) return record;
  if (await hasStoredVector(knex, target)) return record;
  // Another run (a shard) may have recorded its embedder and not written yet: its record stands.
  if (await otherRunActive()) return record;
  await failpoint('space:before-forget');
  // Forgotten only if no run started since the record was read (it may be about to write).
  if (!(await ledger.forgetSpace(knex, BACKFILL_SEEDER, { fingerprint: recorded, runs: record.runs }))) return record;
  say(
    `No vector is stored in ${target.table}.${target.sparseColumn} yet: the embedder an earlier run recorded (${describeFingerprint(recorded)}) is replaced by ${describeFingerprint(current)}.`,
  );
  return { ...record, embedder_fingerprint: null };
}
