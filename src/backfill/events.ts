import type { RetryNotice } from '../embedders/types';
import type { Shard } from './options';
import type { BackfillProgress } from './progress/model';
import type { BackfillFailure, BackfillSummary } from './summary';

/** What a run is about to do (after its start-up count). */
export interface BackfillStart {
  total: number;
  batchSize: number;
  workers: number;
  delaySeconds: number;
  dryRun: boolean;
  embedder: string;
  model: string;
  table: string;
  shard: Shard | null;
  /** Rows left NULL on purpose because their text is empty. */
  skipped: number;
  /** The term statistics (query-side IDF) were built or rebuilt from the stored vectors at start. */
  termStatsRebuilt?: { reason: 'created' | 'count-differed'; vectors: number };
  /** Dry run: the rows it reads at most. */
  dryRunLimit?: number;
  /** A batch's texts hold at most this many characters (--batch-chars). */
  batchChars?: number;
  /** Adaptive batch size: the batch duration it aims for. */
  targetBatchMs?: number;
  /** The vector column (for the dry run's "would write to table.column"). */
  sparseColumn: string;
  /** Resumed after this id (the previous run's checkpoint); the total came from its figures, not a count. */
  resumedAfter?: string;
}

export interface BatchFailed {
  stage: 'embed' | 'write';
  worker: number;
  rows: number;
  firstId: string;
  lastId: string;
  reason: string;
  next: 'split';
}

/**
 * The events of one backfill run, in the spirit of Umzug's migrating/migrated: the run loop emits them, the
 * reporter (reporter.ts) turns them into the header, progress and summary; library code never prints.
 */
export interface BackfillEvents {
  start: BackfillStart;
  progress: BackfillProgress;
  /** A batch failed as a whole and is split to find the rows that cause it. */
  'batch-failed': BatchFailed;
  'row-failed': BackfillFailure;
  /** An embedder request failed and is retried after a wait. */
  'embedder-retry': RetryNotice;
  /**
   * The server rejected every shape of the batched UPDATE (reason: its error): the writer writes row by row,
   * one transaction per batch (may be emitted for several batches; the reporter says it once).
   */
  'writer-fallback': { reason: string };
  /** Throttle: the server runs more threads than allowed; the run waits. */
  paused: { threadsRunning: number; threshold: number };
  resumed: { threshold: number };
  /** The run's end: the last progress snapshot and the summary returned to the caller. */
  done: { final: BackfillProgress; summary: BackfillSummary };
}

type Listener<T> = (data: T) => void;

/** A small typed event emitter: listeners run synchronously, in the order they were added. */
export class BackfillEmitter {
  private readonly listeners = new Map<keyof BackfillEvents, Array<Listener<never>>>();

  on<K extends keyof BackfillEvents>(name: K, listener: Listener<BackfillEvents[K]>): this {
    const list = this.listeners.get(name) ?? [];
    list.push(listener);
    this.listeners.set(name, list);
    return this;
  }

  emit<K extends keyof BackfillEvents>(name: K, data: BackfillEvents[K]): void {
    for (const listener of this.listeners.get(name) ?? []) (listener as Listener<BackfillEvents[K]>)(data);
  }
}
