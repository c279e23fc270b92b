import type { Knex } from 'knex';
import type { SparseDialect, SparseTarget } from '../dialect/dialect';
import type { SparseEmbedder } from '../embedders/types';
import { shortenStatementError } from '../db/statement-errors';
import { SparseVectorError } from '../errors';
import { checkIndexLimit, type SparseVector } from '../sparse/sparse-vector';
import { failpoint } from '../util/failpoint';
import { redact } from '../util/redact';
import type { BackfillEmitter } from './events';
import type { FailureLog } from './failures';
import type { ProgressTracker } from './progress/model';
import type { PendingRow } from './reader';
import { isRowDataError, retryWhile, withDbRetry } from './retry';
import type { DryRunTally } from './summary';
import { writeBatchCounted } from './stats-writer';
import { writeBatch, type PendingWrite, type WritePlan } from './writer';

/** What embedding and writing a batch needs; shared by the batches of one run. */
export interface BatchContext {
  knex: Knex;
  dialect: SparseDialect;
  target: SparseTarget;
  embedder: SparseEmbedder;
  /** The id's placeholder in the write (see idPlaceholder). */
  idParam: string;
  /** Largest UPDATE statement in bytes (from max_allowed_packet, with room to spare). */
  maxStatementBytes: number;
  /** Embedding attempts of a whole batch (and of a single row) before it is split or fails. */
  attempts: number;
  /** SIGINT/SIGTERM, abort(): also ends embedder retry waits. */
  signal?: AbortSignal;
  /** For the progress shown while an embedder retry waits. */
  tracker: ProgressTracker;
  events: BackfillEmitter;
  failures: FailureLog;
  /** Set for a dry run: vectors are counted here instead of written. */
  dryRun?: DryRunTally;
  /** The term statistics table, when this run records them (local embedder, not a dry run). */
  statsTable?: string;
  /** How this run's batches are written (the statement's shape, or row by row): shared by its workers. */
  writePlan: WritePlan;
}

export interface BatchResult {
  migrated: number;
  failed: number;
  changed: number;
}

/** Errors that fail every row alike: the run stops instead of bisecting. */
const FATAL_EMBEDDER_ERRORS = new Set<string>(['EMBEDDER_AUTH', 'EMBEDDER_CONFIG', 'EMBEDDER_UNREACHABLE']);

/**
 * Embed and validate a batch. A batch the embedder rejects is split in halves until the rows that cause it
 * are alone; those fail (recorded in the failure log), the others go on. Returns the vectors to write.
 */
export async function embedBatch(
  ctx: BatchContext,
  rows: PendingRow[],
  worker: number,
  result: BatchResult,
  whole = true,
): Promise<PendingWrite[]> {
  let vectors: SparseVector[];
  try {
    // The whole batch and single rows get every attempt; the halves of a split batch get one.
    vectors = await embedWithRetry(
      ctx,
      rows.map((r) => r.text),
      whole || rows.length === 1 ? ctx.attempts : 1,
    );
  } catch (err) {
    if (ctx.signal?.aborted) return []; // stopped while waiting: the rows stay NULL for the next run
    if (FATAL_EMBEDDER_ERRORS.has((err as SparseVectorError).code)) throw err;
    if (rows.length === 1) {
      fail(ctx, rows[0].id, err, result);
      return [];
    }
    batchFailed(ctx, rows, err, worker, 'embed');
    const mid = Math.ceil(rows.length / 2);
    const first = await embedBatch(ctx, rows.slice(0, mid), worker, result, false);
    return [...first, ...(await embedBatch(ctx, rows.slice(mid), worker, result, false))];
  }
  const writes: PendingWrite[] = [];
  rows.forEach((row, i) => {
    try {
      const value = encodeVector(ctx, vectors[i]);
      writes.push({ id: row.id, hash: row.hash, value, indices: vectors[i].indices });
      ctx.dryRun?.note(row.id, vectors[i].indices.length, value);
    } catch (err) {
      fail(ctx, row.id, err, result);
    }
  });
  return writes;
}

function encodeVector(ctx: BatchContext, v: SparseVector | undefined): string {
  if (!v || !(v.indices instanceof Uint32Array) || !(v.values instanceof Float32Array)) {
    throw new SparseVectorError(
      'EMBEDDER_BAD_RESPONSE',
      'The embedder returned something that is not a sparse vector.',
    );
  }
  return ctx.dialect.encode(checkIndexLimit(v, ctx.dialect.maxIndex));
}

function embedWithRetry(ctx: BatchContext, texts: string[], attempts: number): Promise<SparseVector[]> {
  const embed = async () => {
    const vectors = await ctx.embedder.embedDocuments(texts, {
      signal: ctx.signal,
      onRetry: (notice) => {
        // An embedder request failed and is retried after a wait: say so (with the progress) while it waits.
        ctx.events.emit('embedder-retry', notice);
        ctx.events.emit('progress', ctx.tracker.snapshot());
      },
    });
    if (!Array.isArray(vectors) || vectors.length !== texts.length) {
      throw new SparseVectorError(
        'EMBEDDER_BAD_RESPONSE',
        `The embedder returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${texts.length} texts.`,
      );
    }
    return vectors;
  };
  return retryWhile(
    embed,
    attempts,
    (err) => !FATAL_EMBEDDER_ERRORS.has((err as SparseVectorError)?.code),
    (attempt) => 100 * 2 ** (attempt - 1),
    ctx.signal,
  );
}

/**
 * Write a batch's vectors: as few statements as max_allowed_packet allows (a dry run counts them instead).
 * Rows the server rejects fail alone (see writeIsolating); any other error ends the run.
 */
export async function writeVectors(
  ctx: BatchContext,
  writes: PendingWrite[],
  worker: number,
  result: BatchResult,
): Promise<void> {
  if (ctx.dryRun) {
    result.migrated += writes.length;
    return;
  }
  if (!writes.length) return;
  await failpoint('backfill:before-write');
  for (const chunk of packetChunks(writes, ctx.maxStatementBytes)) await writeIsolating(ctx, chunk, worker, result);
}

/** Split a batch's writes so that no statement exceeds the server's packet limit. */
function packetChunks(writes: PendingWrite[], maxBytes: number): PendingWrite[][] {
  const chunks: PendingWrite[][] = [];
  let current: PendingWrite[] = [];
  let bytes = 512;
  for (const w of writes) {
    const size = Buffer.byteLength(w.value) * 2 + w.id.length + w.hash.length + 64; // values are escaped: up to 2x
    if (current.length && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 512;
    }
    current.push(w);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/**
 * Write, retrying transient errors; a server error about the values (a row the server rejects) splits the
 * write until the rejected rows are alone, and those fail. Any other error ends the run.
 */
async function writeIsolating(
  ctx: BatchContext,
  writes: PendingWrite[],
  worker: number,
  result: BatchResult,
): Promise<void> {
  try {
    const statsTable = ctx.statsTable;
    const onFallback = (reason: string) => ctx.events.emit('writer-fallback', { reason: redact(reason) });
    const written = await withDbRetry(() =>
      statsTable
        ? writeBatchCounted(ctx.knex, ctx.target, statsTable, writes, ctx.idParam, onFallback, ctx.writePlan)
        : writeBatch(ctx.knex, ctx.target, writes, ctx.idParam, onFallback, ctx.writePlan),
    );
    result.migrated += written;
    result.changed += writes.length - written;
  } catch (err) {
    shortenStatementError(err); // the failure log and events quote its message: not the whole batch's statement
    if (!isRowDataError(err)) throw err;
    if (writes.length === 1) {
      fail(ctx, writes[0].id, err, result);
      return;
    }
    batchFailed(ctx, writes, err, worker, 'write');
    const mid = Math.ceil(writes.length / 2);
    await writeIsolating(ctx, writes.slice(0, mid), worker, result);
    await writeIsolating(ctx, writes.slice(mid), worker, result);
  }
}

function batchFailed(
  ctx: BatchContext,
  rows: Array<{ id: string }>,
  err: unknown,
  worker: number,
  stage: 'embed' | 'write',
): void {
  ctx.events.emit('batch-failed', {
    stage,
    worker,
    rows: rows.length,
    firstId: rows[0].id,
    lastId: rows[rows.length - 1].id,
    reason: redact((err as Error)?.message ?? String(err)),
    next: 'split',
  });
}

function fail(ctx: BatchContext, id: string, err: unknown, result: { failed: number }): void {
  result.failed++;
  ctx.failures.record(id, err);
}
