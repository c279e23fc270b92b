import fs from 'node:fs';
import type { Knex } from 'knex';
import PQueue from 'p-queue';
import { requireConnection } from '../config/config';
import { checkConnection, createKnex } from '../db/knex';
import type { SparseDialect, SparseTarget } from '../dialect/dialect';
import { createEmbedder } from '../embedders';
import type { SparseEmbedder } from '../embedders/types';
import { SvmError } from '../errors';
import { columnInfo } from '../schema/inspect';
import { openSchemaContext, readSchemaState } from '../schema/sparse-schema';
import { checkIndexLimit, type SparseVector } from '../sparse/sparse-vector';
import { failpoint } from '../util/failpoint';
import { redact } from '../util/redact';
import { checkBackfillNumbers, DEFAULTS, type BackfillOptions } from './options';
import { duration, n } from './progress/format';
import { ProgressTracker, type BackfillProgress } from './progress/model';
import { createRenderer, type ProgressRenderer } from './progress/renderers';
import { countEligible, KeysetReader, type PendingRow } from './reader';
import { writeBatch, type PendingWrite } from './writer';

export interface BackfillFailure {
  id: string;
  reason: string;
}

export interface BackfillSummary {
  ok: boolean;
  dryRun: boolean;
  /** Stopped by a signal before the end. */
  stopped: boolean;
  total: number;
  migrated: number;
  failed: number;
  /** Rows not written because the application changed them during the run (they stay NULL or keep its value). */
  skipped: number;
  /** The first 1,000 failures (all of them go to failuresFile). */
  failures: BackfillFailure[];
  workers: Array<{ migrated: number; failed: number }>;
  elapsedMs: number;
  recordsPerSecond: number;
  /** Eligible rows still NULL after the run (in this shard). */
  remaining: number;
  /** Set when the run ended on an error that is not a row's own (server gone, schema missing). */
  error?: Error;
}

const MAX_LISTED_FAILURES = 1000;
const RETRYABLE_DB = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED']);

const FATAL_EMBEDDER_ERRORS = new Set<string>(['EMBEDDER_AUTH', 'EMBEDDER_CONFIG']);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Context shared by the batches of one run. */
interface Run {
  knex: Knex;
  dialect: SparseDialect;
  target: SparseTarget;
  embedder: SparseEmbedder;
  integerId: boolean;
  dryRun: boolean;
  attempts: number;
  tracker: ProgressTracker;
  renderer: ProgressRenderer;
  failures: BackfillFailure[];
  failuresFile?: number;
  onProgress?: (p: BackfillProgress) => void;
  /** Each worker's write in flight (see processBatch). */
  writes: Array<Promise<void> | undefined>;
}

/**
 * The backfill engine: embeds the text of every eligible row (sparse column NULL, text not empty) and
 * writes the vectors, `workers` batches at a time. All state lives in the table, so a killed run loses
 * nothing: the next run continues with the rows still NULL.
 */
export async function runBackfill(options: BackfillOptions & { knex?: Knex }): Promise<BackfillSummary> {
  const { config } = options;
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const workers = options.workers ?? DEFAULTS.workers;
  const delayMs = (options.delaySeconds ?? DEFAULTS.delaySeconds) * 1000;
  const dryRun = options.dryRun ?? false;
  checkBackfillNumbers({ batchSize, workers, delaySeconds: options.delaySeconds, dryRunLimit: options.dryRunLimit, limit: options.limit });
  const embedder = options.embedder ?? createEmbedder(config.embedder);
  const connection = requireConnection(config);
  const knex = options.knex ?? createKnex(connection, { pool: workers + 2 });
  const out = options.out ?? process.stdout;
  const renderer = createRenderer(options.progress ?? 'auto', out, options.progressIntervalSeconds ?? 5);
  const log = options.logger;
  try {
    await checkConnection(knex, connection);
    const ctx = await openSchemaContext(knex, config);
    const state = await readSchemaState(ctx);
    if (!state.tableExists || !state.column?.expectedType) {
      throw new SvmError('SCHEMA_NOT_UPGRADED', `Table '${config.table}' has no ${ctx.dialect.columnType} column '${config.sparseColumn}' yet.`, {
        hint: 'Run the schema upgrade first: npx umzug up (or npx sparse-vector run upgrade-sparse-vector).',
      });
    }
    const idInfo = await columnInfo(knex, config.table, config.idColumn);
    const integerId = /int$/i.test(idInfo?.dataType ?? '');
    const eligible = await countEligible(knex, ctx.target, options.shard);
    const cap = dryRun ? (options.dryRunLimit ?? DEFAULTS.dryRunLimit) : options.limit;
    const total = cap === undefined ? eligible : Math.min(cap, eligible);
    const tracker = new ProgressTracker(total, workers, dryRun);
    const run: Run = {
      knex,
      dialect: ctx.dialect,
      target: ctx.target,
      embedder,
      integerId,
      dryRun,
      attempts: options.embedAttempts ?? DEFAULTS.embedAttempts,
      tracker,
      renderer,
      failures: [],
      failuresFile: options.failuresFile ? fs.openSync(options.failuresFile, 'a') : undefined,
      onProgress: options.onProgress,
      writes: new Array(workers).fill(undefined),
    };
    if (dryRun) renderer.line(`[DRY RUN] Mode enabled - will only test with ${n(cap!)} records (nothing is written)`);
    renderer.line(`Total records to migrate: ${n(total)}${options.shard ? ` (shard ${options.shard.index}/${options.shard.count})` : ''}`);
    renderer.line(`Batch size: ${batchSize}`);
    renderer.line(`Thread pool size: ${workers}`);
    renderer.line(`Embedder: ${embedder.provider} (${embedder.model})`);
    renderer.line('');
    renderer.event('start', { total, batchSize, workers, dryRun, embedder: embedder.provider, shard: options.shard ?? null });

    const reader = new KeysetReader(knex, ctx.target, options.shard, integerId);
    const queue = new PQueue({ concurrency: workers });
    const free = Array.from({ length: workers }, (_, i) => workers - 1 - i);
    let fatal: Error | undefined;
    let taken = 0;
    let size = batchSize;
    while (!options.signal?.aborted && !fatal) {
      // Keep one batch read ahead of each worker, so a worker never waits for the reader.
      await queue.onSizeLessThan(workers);
      if (options.signal?.aborted || fatal) break;
      const want = cap === undefined ? size : Math.min(size, cap - taken);
      if (want <= 0) break;
      if (options.maxThreadsRunning) await waitForQuietServer(knex, options.maxThreadsRunning, options.signal, log);
      const rows = await reader.next(want);
      if (!rows.length) break;
      taken += rows.length;
      void queue.add(async () => {
        const worker = free.pop()!;
        const started = Date.now();
        try {
          await processBatch(run, rows, worker);
          if (options.targetBatchMs) size = adapt(size, Date.now() - started, options.targetBatchMs, batchSize);
          if (delayMs > 0 && !options.signal?.aborted) await sleep(delayMs);
        } catch (err) {
          fatal ??= err as Error;
        } finally {
          free.push(worker);
        }
      });
    }
    await queue.onIdle();
    // Settle every pipelined write; the first failure is the run's error.
    for (const w of run.writes) await w?.catch((err: Error) => void (fatal ??= err));
    const stopped = !!options.signal?.aborted && !fatal;
    const final = tracker.snapshot(true);
    renderer.finish(final);
    const remaining = dryRun ? eligible : await countEligible(knex, ctx.target, options.shard).catch(() => eligible - final.migrated);
    const summary: BackfillSummary = {
      ok: !fatal && final.failed === 0 && !stopped,
      dryRun,
      stopped,
      total: final.total,
      migrated: final.migrated,
      failed: final.failed,
      skipped: final.skipped,
      failures: run.failures,
      workers: final.workers,
      elapsedMs: final.elapsedMs,
      recordsPerSecond: final.recordsPerSecond,
      remaining,
      error: fatal,
    };
    if (run.failuresFile !== undefined) fs.closeSync(run.failuresFile);
    printSummary(renderer, summary, options);
    renderer.event('done', { ...summary, error: fatal ? redact(fatal.message) : undefined });
    return summary;
  } finally {
    if (!options.knex) await knex.destroy();
  }
}

function adapt(size: number, tookMs: number, targetMs: number, max: number): number {
  const next = Math.round(size * Math.min(2, Math.max(0.5, targetMs / Math.max(1, tookMs))));
  return Math.max(1, Math.min(max, next));
}

async function waitForQuietServer(knex: Knex, threshold: number, signal: AbortSignal | undefined, log: BackfillOptions['logger']): Promise<void> {
  let told = false;
  for (;;) {
    const [rows] = (await knex.raw("SHOW GLOBAL STATUS LIKE 'Threads_running'")) as [Array<{ Value: string }>];
    const running = Number(rows[0]?.Value ?? 0);
    if (running <= threshold || signal?.aborted) return;
    if (!told) log?.info(`Server busy (Threads_running=${running} > ${threshold}); pausing the backfill`);
    told = true;
    await sleep(1000);
  }
}

/** Embed, validate and write one batch; failures are isolated to the rows that cause them. */
/**
 * Embed and validate one batch (failures isolated to the rows that cause them), then write all its valid
 * vectors in one statement. The write is pipelined: the worker's slot is free for its next batch while the
 * write runs, and the worker's next write first waits for this one, so at most one write per worker is in
 * flight. Returns when the batch is embedded; `run.writes` holds the pending write.
 */
async function processBatch(run: Run, rows: PendingRow[], worker: number): Promise<void> {
  const result = { migrated: 0, failed: 0, skipped: 0 };
  const writes: PendingWrite[] = [];
  await embedRows(run, rows, writes, result);
  const previous = run.writes[worker];
  const write = (async () => {
    await previous;
    if (run.dryRun) result.migrated += writes.length;
    else if (writes.length) {
      await failpoint('backfill:before-write');
      const written = await writeWithRetry(run, writes);
      result.migrated += written;
      result.skipped += writes.length - written;
    }
    run.tracker.record(worker, result);
    const snap = run.tracker.snapshot();
    run.renderer.update(snap);
    run.onProgress?.(snap);
  })();
  void write.catch(() => undefined); // awaited later (next batch of this worker, or the end of the run)
  run.writes[worker] = write;
  await previous; // back-pressure: a worker never has two writes queued
}

async function embedRows(run: Run, rows: PendingRow[], writes: PendingWrite[], result: { failed: number }): Promise<void> {
  let vectors: SparseVector[];
  try {
    vectors = await embedWithRetry(run, rows.map((r) => r.text));
  } catch (err) {
    // A rejected key or a bad configuration fails every row alike: stop the run instead of bisecting.
    if (FATAL_EMBEDDER_ERRORS.has((err as SvmError).code)) throw err;
    if (rows.length === 1) {
      fail(run, rows[0], err, result);
      return;
    }
    // Split to isolate the rows the embedder rejects.
    const mid = Math.ceil(rows.length / 2);
    await embedRows(run, rows.slice(0, mid), writes, result);
    await embedRows(run, rows.slice(mid), writes, result);
    return;
  }
  rows.forEach((row, i) => {
    try {
      writes.push({ id: row.id, hash: row.hash, value: run.dialect.encode(checkIndexLimit(vectors[i], run.dialect.maxIndex)) });
    } catch (err) {
      fail(run, row, err, result);
    }
  });
}

async function embedWithRetry(run: Run, texts: string[]): Promise<SparseVector[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const vectors = await run.embedder.embedDocuments(texts);
      if (vectors.length !== texts.length) throw new SvmError('EMBEDDER_BAD_RESPONSE', `The embedder returned ${vectors.length} vectors for ${texts.length} texts.`);
      return vectors;
    } catch (err) {
      if (attempt >= run.attempts || FATAL_EMBEDDER_ERRORS.has((err as SvmError).code)) throw err;
      await sleep(100 * 2 ** (attempt - 1));
    }
  }
}

async function writeWithRetry(run: Run, writes: PendingWrite[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await writeBatch(run.knex, run.target, writes, run.integerId);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (attempt >= 3 || !RETRYABLE_DB.has(code)) throw err;
      await sleep(200 * attempt);
    }
  }
}

function fail(run: Run, row: PendingRow, err: unknown, result: { failed: number }): void {
  result.failed++;
  const reason = redact((err as Error)?.message ?? String(err));
  const failure = { id: row.id, reason };
  if (run.failures.length < MAX_LISTED_FAILURES) run.failures.push(failure);
  if (run.failuresFile !== undefined) fs.writeSync(run.failuresFile, JSON.stringify(failure) + '\n');
  run.renderer.event('row-failed', failure);
}

function printSummary(r: ProgressRenderer, s: BackfillSummary, options: BackfillOptions): void {
  r.line('');
  if (s.dryRun) {
    r.line(`[DRY RUN] Embedded ${n(s.migrated)} rows in ${duration(s.elapsedMs)} (${s.recordsPerSecond.toFixed(1)} rec/s); would write ${n(s.migrated)} vectors. Nothing was written.`);
  } else {
    r.line(`Migrated: ${n(s.migrated)} | Failed: ${n(s.failed)} | Changed during the run: ${n(s.skipped)} | Still NULL: ${n(s.remaining)} | ${duration(s.elapsedMs)} (${s.recordsPerSecond.toFixed(1)} rec/s)`);
  }
  if (s.failed) {
    r.line(`Failed rows (they stay NULL and are retried by the next run)${options.failuresFile ? `; all listed in ${options.failuresFile}` : ''}:`);
    for (const f of s.failures.slice(0, 20)) r.line(`  id ${f.id}: ${f.reason}`);
    if (s.failed > 20) r.line(`  ... and ${n(s.failed - 20)} more`);
  }
  if (s.error) r.line(`The run stopped on an error: ${redact(s.error.message)}`);
  if (s.stopped) r.line('Stopped before the end: in-flight batches were finished, nothing was lost.');
  if ((s.stopped || s.error || s.failed || s.skipped) && !s.dryRun) {
    r.line('To resume, run the same command again: rows still NULL are picked up.');
  }
}
