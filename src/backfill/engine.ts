/* eslint-disable max-lines, max-lines-per-function -- TEMPORARY until runBackfill and the file are split into modules in the next commit series (issue 13 item 1). */
import fs from 'node:fs';
import type { Knex } from 'knex';
import PQueue from 'p-queue';
import { requireConnection, type SparseVectorConfig } from '../config/config';
import { discoverTable } from '../config/table-discovery';
import { checkConnection, createKnex } from '../db/knex';
import type { SparseDialect, SparseTarget } from '../dialect/dialect';
import { createEmbedder } from '../embedders';
import type { RetryNotice } from '../embedders/http';
import type { SparseEmbedder } from '../embedders/types';
import { SvmError } from '../errors';
import { privilegeError } from '../db/privileges';
import { quoteIdentifier as q } from '../identifiers';
import { checkIdColumn } from '../schema/id-column';
import { openSchemaContext, readSchemaState, type SparseSchemaContext } from '../schema/sparse-schema';
import { checkIndexLimit, type SparseVector } from '../sparse/sparse-vector';
import { failpoint } from '../util/failpoint';
import { redact } from '../util/redact';
import { explainRunError } from './schema-guard';
import { checkBackfillNumbers, DEFAULTS, type BackfillOptions, type Shard } from './options';
import { duration, n } from './progress/format';
import { ProgressTracker, type BackfillProgress } from './progress/model';
import { createRenderer, type ProgressRenderer } from './progress/renderers';
import { countEligible, hasText, idPlaceholder, KeysetReader, shardCondition, type PendingRow } from './reader';
import { isRowDataError, retry, withDbRetry } from './retry';
import { writeBatch, type PendingWrite } from './writer';

export interface BackfillFailure {
  id: string;
  reason: string;
}

export interface BackfillSummary {
  /** No failed row, not stopped, no run error. */
  ok: boolean;
  dryRun: boolean;
  /** Stopped by the signal (SIGINT/SIGTERM, abort()) before the end. */
  stopped: boolean;
  /** Rows of this run: migrated + failed + remaining (dry run / limit: the rows it was to process). */
  total: number;
  /** Rows written (dry run: rows embedded that would be written). */
  migrated: number;
  /** Rows that could not be embedded or written: they stay NULL and the next run retries them. */
  failed: number;
  /** Rows with a NULL vector whose text is empty or whitespace: left NULL on purpose (counted at start). */
  skipped: number;
  /** Rows not written because the application changed them between read and write ("changed, retried"). */
  changed: number;
  /** The first 1,000 failures (all of them go to failuresFile). */
  failures: BackfillFailure[];
  workers: Array<{ migrated: number; failed: number }>;
  elapsedMs: number;
  recordsPerSecond: number;
  /** Eligible rows still NULL after the run (in this shard), not counting the failed ones. */
  remaining: number;
  /** Dry run: what would have been written. */
  wouldWrite?: DryRunReport;
  /** The error that ended the run early (server gone, embedder key rejected), if any. */
  error?: Error;
}

export interface DryRunReport {
  rows: number;
  averageTerms: number;
  averageBytes: number;
  /** The first few vectors, as they would be bound for the column. */
  sample: Array<{ id: string; terms: number; value: string }>;
}

const MAX_LISTED_FAILURES = 1000;
const SAMPLE_SIZE = 3;
/** Errors that fail every row alike: the run stops instead of bisecting. */
const FATAL_EMBEDDER_ERRORS = new Set<string>(['EMBEDDER_AUTH', 'EMBEDDER_CONFIG', 'EMBEDDER_UNREACHABLE']);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Context shared by the batches of one run. */
interface Run {
  knex: Knex;
  dialect: SparseDialect;
  target: SparseTarget;
  shard?: Shard;
  embedder: SparseEmbedder;
  /** SIGINT/SIGTERM, abort(): also ends embedder retry waits. */
  signal?: AbortSignal;
  log?: BackfillOptions['logger'];
  idParam: string;
  /** Largest UPDATE statement in bytes (from max_allowed_packet, with room to spare). */
  maxStatementBytes: number;
  dryRun: boolean;
  attempts: number;
  tracker: ProgressTracker;
  renderer: ProgressRenderer;
  failures: BackfillFailure[];
  failuresFd?: number;
  onProgress?: (p: BackfillProgress) => void;
  /** Each worker's write in flight (see processBatch). */
  writes: Array<Promise<void> | undefined>;
  /** The error that ends the run; set once. */
  fatal?: Error;
  /** A total recount in flight (see maybeRecount). */
  recount?: Promise<void>;
  /** Whether the total may be recounted (not for a dry run or a limited run). */
  recountable: boolean;
  size: number;
  wouldWrite: { rows: number; terms: number; bytes: number; sample: DryRunReport['sample'] };
}

/**
 * The backfill engine (no ledger: see runSeeder for the tracked seeder). Embeds the text of every eligible
 * row (sparse column NULL, text not empty/whitespace) and writes the vectors, `workers` batches at a time.
 * All state lives in the table, so a killed run loses nothing: the next run continues with the rows still
 * NULL. Setup problems (no database, schema not upgraded, bad options) are thrown before anything is
 * written; a problem met during the run ends it early and is returned in `summary.error`. `schema` is the
 * context checkBackfillTarget() returned, when the caller (the seeder) has checked already.
 */
export async function runBackfill(
  options: BackfillOptions & { knex?: Knex; schema?: SparseSchemaContext },
): Promise<BackfillSummary> {
  const { signal } = options;
  let { config } = options;
  checkBackfillNumbers(options);
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const workers = options.workers ?? DEFAULTS.workers;
  const delayMs = (options.delaySeconds ?? DEFAULTS.delaySeconds) * 1000;
  const dryRun = options.dryRun ?? false;
  const embedder = options.embedder ?? createEmbedder(config.embedder);
  const connection = requireConnection(config);
  const failuresFd = openFailuresFile(options.failuresFile, dryRun);
  const knex = options.knex ?? createKnex(connection, { pool: workers + 3 });
  const out = options.out ?? process.stdout;
  const renderer = createRenderer(
    options.progress ?? 'auto',
    out,
    options.progressIntervalSeconds ?? DEFAULTS.progressIntervalSeconds,
    options.shard,
  );
  const log = options.logger;
  try {
    await checkConnection(knex, connection);
    if (config.tableDiscovery) {
      config = await discoverTable(knex, config, log);
      options = { ...options, config };
    }
    const ctx = options.schema ?? (await checkBackfillTarget(knex, config));
    const idParam = await idPlaceholder(knex, ctx.target);
    const maxStatementBytes = await statementLimit(knex);
    const atStart = await countNullRows(knex, ctx.target, options.shard);
    const cap = dryRun ? (options.dryRunLimit ?? DEFAULTS.dryRunLimit) : options.limit;
    const tracker = new ProgressTracker(
      cap === undefined ? atStart.eligible : Math.min(cap, atStart.eligible),
      workers,
      dryRun,
      batchSize,
    );
    const run: Run = {
      knex,
      dialect: ctx.dialect,
      target: ctx.target,
      shard: options.shard,
      embedder,
      signal,
      log,
      idParam,
      maxStatementBytes,
      dryRun,
      attempts: options.embedAttempts ?? DEFAULTS.embedAttempts,
      tracker,
      renderer,
      failures: [],
      failuresFd,
      onProgress: options.onProgress,
      writes: new Array<Promise<void> | undefined>(workers).fill(undefined),
      recountable: cap === undefined,
      size: batchSize,
      wouldWrite: { rows: 0, terms: 0, bytes: 0, sample: [] },
    };
    const shardText = options.shard ? ` (shard ${options.shard.index}/${options.shard.count})` : '';
    if (dryRun) renderer.line(`[DRY RUN] Mode enabled - will only test with ${n(cap!)} records (nothing is written)`);
    renderer.line(`Total records to migrate: ${n(tracker.total)}${shardText}`);
    renderer.line(
      `Batch size: ${batchSize}${options.targetBatchMs ? ` (adapting toward ${options.targetBatchMs} ms per batch)` : ''}`,
    );
    renderer.line(`Thread pool size: ${workers}`);
    renderer.line(`Embedder: ${embedder.provider} (${embedder.model})`);
    if (atStart.empty) renderer.line(`Rows with an empty text (left NULL): ${n(atStart.empty)}`);
    renderer.line('');
    renderer.event('start', {
      total: tracker.total,
      batchSize,
      workers,
      delaySeconds: delayMs / 1000,
      dryRun,
      embedder: embedder.provider,
      model: embedder.model,
      table: config.table,
      shard: options.shard ?? null,
      skipped: atStart.empty,
    });

    const reader = new KeysetReader(knex, ctx.target, options.shard, idParam);
    const queue = new PQueue({ concurrency: workers });
    // Free worker slots, taken round-robin (FIFO): each slot has its own write chain, so rotating keeps up to
    // `workers` writes in flight even when embedding is so fast that a slot is free again at once.
    const free = Array.from({ length: workers }, (_, i) => i);
    const stopping = () => !!signal?.aborted || run.fatal !== undefined;
    let taken = 0;
    while (!stopping()) {
      // Keep batches read ahead of the workers, so a worker never waits for the reader.
      await queue.onSizeLessThan(workers);
      if (stopping()) break;
      const want = cap === undefined ? run.size : Math.min(run.size, cap - taken);
      if (want <= 0) break;
      let rows: PendingRow[];
      try {
        if (options.maxThreadsRunning) await waitForQuietServer(run, options.maxThreadsRunning, signal, log);
        if (stopping()) break;
        rows = await reader.next(want);
      } catch (err) {
        run.fatal ??= err as Error;
        break;
      }
      if (!rows.length) break;
      taken += rows.length;
      void queue.add(async () => {
        // Read ahead but not started when the run is told to stop: the rows stay NULL for the next run.
        if (stopping()) return;
        const worker = free.shift()!;
        const started = Date.now();
        try {
          await processBatch(run, rows, worker);
          if (options.targetBatchMs) {
            run.size = adapt(run.size, rows.length, Date.now() - started, options.targetBatchMs, batchSize);
            tracker.batchSize = run.size;
          }
          if (delayMs > 0) await sleep(delayMs, signal);
        } catch (err) {
          run.fatal ??= err as Error;
        } finally {
          free.push(worker);
        }
      });
    }
    await queue.onIdle();
    // Settle every pipelined write; the first failure is the run's error.
    for (const w of run.writes) await w?.catch((err: Error) => void (run.fatal ??= err));
    if (run.fatal) run.fatal = privilegeError(run.fatal) ?? run.fatal; // "lacks UPDATE …", not the statement
    await run.recount;
    if (run.fatal) run.fatal = await explainRunError(ctx, run.fatal);

    const stopped = !!signal?.aborted && !run.fatal;
    const processed = tracker.snapshot();
    let remaining: number;
    if (dryRun) remaining = atStart.eligible;
    else {
      const stillNull = await countEligible(knex, ctx.target, options.shard).catch(() => undefined);
      remaining =
        stillNull !== undefined
          ? Math.max(0, stillNull - processed.failed)
          : Math.max(0, tracker.total - processed.processed);
    }
    // Exact at the end: what this run did plus what is left (a dry or limited run: what it was to do). The
    // display keeps total >= processed (rows the application gave a value meanwhile are processed, not left).
    const exactTotal = !dryRun && cap === undefined ? processed.migrated + processed.failed + remaining : undefined;
    if (exactTotal !== undefined) tracker.total = exactTotal;
    const final = tracker.snapshot(true);
    renderer.finish(final);
    const summary: BackfillSummary = {
      ok: !run.fatal && final.failed === 0 && !stopped,
      dryRun,
      stopped,
      total: exactTotal ?? final.total,
      migrated: final.migrated,
      failed: final.failed,
      skipped: atStart.empty,
      changed: final.changed,
      failures: run.failures,
      workers: final.workers,
      elapsedMs: final.elapsedMs,
      recordsPerSecond: final.recordsPerSecond,
      remaining,
      error: run.fatal,
    };
    if (dryRun) summary.wouldWrite = dryRunReport(run);
    printSummary(renderer, summary, options);
    renderer.event('done', { ...summary, error: run.fatal ? redact(run.fatal.message) : undefined });
    if (run.fatal && renderer.kind === 'none') log?.warn(`Backfill ended early: ${redact(run.fatal.message)}`);
    return summary;
  } finally {
    if (failuresFd !== undefined) fs.closeSync(failuresFd);
    if (!options.knex) await knex.destroy();
  }
}

function openFailuresFile(file: string | undefined, dryRun: boolean): number | undefined {
  if (!file || dryRun) return undefined;
  try {
    return fs.openSync(file, 'a');
  } catch (err) {
    throw new SvmError(
      'CONFIG_INVALID',
      `Cannot open the failures file ${JSON.stringify(file)}: ${(err as Error).message}`,
      {
        hint: 'Pass a path in a directory that exists and is writable.',
      },
    );
  }
}

/** Refuse (before anything is written) when the table is missing or the schema upgrade has not run. */
export async function checkBackfillTarget(knex: Knex, config: SparseVectorConfig): Promise<SparseSchemaContext> {
  const ctx = await openSchemaContext(knex, config);
  await assertUpgraded(ctx, config);
  await checkIdColumn(knex, ctx.target);
  return ctx;
}

async function assertUpgraded(ctx: SparseSchemaContext, config: SparseVectorConfig): Promise<void> {
  const state = await readSchemaState(ctx);
  if (!state.tableExists) {
    throw new SvmError('TABLE_MISSING', `Table '${config.table}' does not exist.`, {
      hint: 'Set OCEANBASE_COLLECTION (or `table`) to the memories table.',
    });
  }
  if (!state.column?.expectedType) {
    throw new SvmError(
      'SCHEMA_NOT_UPGRADED',
      `Table '${config.table}' has no ${ctx.dialect.columnType} column '${config.sparseColumn}' yet.`,
      {
        hint: 'Run the upgrade first: npx umzug up (or npx sparse-vector run upgrade-sparse-vector).',
      },
    );
  }
}

/** Rows with a NULL vector in the shard: those to embed, and those left NULL because their text is empty. */
async function countNullRows(knex: Knex, t: SparseTarget, shard?: Shard): Promise<{ eligible: number; empty: number }> {
  // One scan of the shard's NULL rows, split by whether they have a text.
  const inShard = shardCondition(t, shard);
  const [rows] = (await knex.raw(
    `SELECT COALESCE(SUM(CASE WHEN ${hasText(q(t.textColumn))} THEN 1 ELSE 0 END), 0) AS eligible, ` +
      `COALESCE(SUM(CASE WHEN ${hasText(q(t.textColumn))} THEN 0 ELSE 1 END), 0) AS empty ` +
      `FROM ${q(t.table)} WHERE ${q(t.sparseColumn)} IS NULL${inShard.sql}`,
    inShard.bindings,
  )) as [Array<{ eligible: unknown; empty: unknown }>];
  return { eligible: Number(rows[0]?.eligible ?? 0), empty: Number(rows[0]?.empty ?? 0) };
}

/** The largest UPDATE we send: 3/4 of max_allowed_packet (the rest is room for the statement's text). */
async function statementLimit(knex: Knex): Promise<number> {
  try {
    const [rows] = (await knex.raw('SELECT @@max_allowed_packet AS m')) as [Array<{ m: unknown }>];
    const m = Number(rows[0]?.m);
    if (Number.isFinite(m) && m > 0) return Math.floor(m * 0.75);
  } catch {
    // Not readable on this server: assume MySQL's oldest default.
  }
  return 3 * 1024 * 1024;
}

/**
 * Adaptive batch size: the size that would take `targetMs` at the rate the last batch (of `rows` rows) was
 * processed, moving at most by half or double per batch, between 1 and the configured batch size.
 */
function adapt(size: number, rows: number, tookMs: number, targetMs: number, max: number): number {
  const ideal = (targetMs * rows) / Math.max(1, tookMs);
  const next = Math.round(Math.min(size * 2, Math.max(size / 2, ideal)));
  return Math.max(1, Math.min(max, next));
}

/** Throttle: wait while the server runs more than `threshold` threads (SHOW GLOBAL STATUS Threads_running). */
async function waitForQuietServer(
  run: Run,
  threshold: number,
  signal: AbortSignal | undefined,
  log: BackfillOptions['logger'],
): Promise<void> {
  let paused = false;
  // With a display the pause shows there (a log line would break the terminal's redraw); else it is logged.
  const say = (text: string) => (run.renderer.kind === 'none' ? log?.info(text) : log?.debug(text));
  try {
    for (;;) {
      const [rows] = (await withDbRetry(() => run.knex.raw("SHOW GLOBAL STATUS LIKE 'Threads_running'"))) as [
        Array<{ Value?: string; value?: string }>,
      ];
      const value = rows[0]?.Value ?? rows[0]?.value;
      if (value === undefined) return; // the server does not report it: no throttle
      const running = Number(value);
      if (running <= threshold || signal?.aborted) return;
      if (!paused) {
        paused = true;
        run.tracker.paused = true;
        say(`Server busy (Threads_running=${running} > ${threshold}): pausing the backfill`);
        run.renderer.event('paused', { threadsRunning: running, threshold });
        report(run);
      }
      await sleep(1000, signal);
    }
  } finally {
    if (paused) {
      run.tracker.paused = false;
      run.renderer.event('resumed', { threshold });
      say('Server load is back under the limit: resuming the backfill');
      report(run);
    }
  }
}

/**
 * Embed and validate one batch (failures isolated to the rows that cause them), then write its valid
 * vectors in one statement (or as few as max_allowed_packet allows). The write is pipelined: the worker
 * goes on with its next batch while the write runs, and its next write first waits for this one, so at most
 * one write per worker is in flight. Returns when the batch is embedded; `run.writes` holds the write.
 */
async function processBatch(run: Run, rows: PendingRow[], worker: number): Promise<void> {
  const result = { migrated: 0, failed: 0, changed: 0 };
  const writes: PendingWrite[] = [];
  await embedRows(run, rows, writes, result, worker, true);
  const previous = run.writes[worker];
  const write = (async () => {
    await previous;
    if (run.dryRun) {
      result.migrated += writes.length;
    } else if (writes.length) {
      await failpoint('backfill:before-write');
      for (const chunk of packetChunks(writes, run.maxStatementBytes)) await writeIsolating(run, chunk, result, worker);
    }
    run.tracker.record(worker, result);
    report(run);
    maybeRecount(run);
  })();
  void write.catch(() => undefined); // awaited later (next batch of this worker, or the end of the run)
  run.writes[worker] = write;
  await previous; // back-pressure: a worker never has two writes queued
}

function report(run: Run): void {
  const snap = run.tracker.snapshot();
  run.renderer.update(snap);
  try {
    run.onProgress?.(snap);
  } catch {
    // A failing progress callback must not stop the backfill.
  }
}

/** More rows processed than counted (the application added or emptied rows): count again, once at a time. */
function maybeRecount(run: Run): void {
  const t = run.tracker;
  if (!run.recountable || run.dryRun || run.recount || t.processed <= t.total) return;
  run.recount = countEligible(run.knex, run.target, run.shard)
    .then((stillNull) => {
      // Rows still NULL include those in flight and the failed ones (already processed).
      t.total = Math.max(t.total, t.processed + Math.max(0, stillNull - t.failed));
    })
    .catch(() => undefined)
    .finally(() => {
      run.recount = undefined;
    });
}

async function embedRows(
  run: Run,
  rows: PendingRow[],
  writes: PendingWrite[],
  result: { failed: number },
  worker: number,
  whole: boolean,
): Promise<void> {
  let vectors: SparseVector[];
  try {
    // The whole batch and single rows get every attempt; the halves of a split batch get one.
    vectors = await embedWithRetry(
      run,
      rows.map((r) => r.text),
      whole || rows.length === 1 ? run.attempts : 1,
    );
  } catch (err) {
    if (run.signal?.aborted) return; // stopped while waiting: the rows stay NULL for the next run
    if (FATAL_EMBEDDER_ERRORS.has((err as SvmError).code)) throw err;
    if (rows.length === 1) {
      fail(run, rows[0].id, err, result);
      return;
    }
    batchFailed(run, rows, err, worker, 'embed');
    const mid = Math.ceil(rows.length / 2);
    await embedRows(run, rows.slice(0, mid), writes, result, worker, false);
    await embedRows(run, rows.slice(mid), writes, result, worker, false);
    return;
  }
  rows.forEach((row, i) => {
    try {
      const v = vectors[i];
      if (!v || !(v.indices instanceof Uint32Array) || !(v.values instanceof Float32Array)) {
        throw new SvmError('EMBEDDER_BAD_RESPONSE', 'The embedder returned something that is not a sparse vector.');
      }
      const value = run.dialect.encode(checkIndexLimit(v, run.dialect.maxIndex));
      writes.push({ id: row.id, hash: row.hash, value });
      if (run.dryRun) noteDryRun(run, row.id, v.indices.length, value);
    } catch (err) {
      fail(run, row.id, err, result);
    }
  });
}

function embedWithRetry(run: Run, texts: string[], attempts: number): Promise<SparseVector[]> {
  const embed = async () => {
    const vectors = await run.embedder.embedDocuments(texts, {
      signal: run.signal,
      onRetry: (notice) => embedderRetry(run, notice),
    });
    if (!Array.isArray(vectors) || vectors.length !== texts.length) {
      throw new SvmError(
        'EMBEDDER_BAD_RESPONSE',
        `The embedder returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${texts.length} texts.`,
      );
    }
    return vectors;
  };
  return retry(
    embed,
    attempts,
    (err) => !FATAL_EMBEDDER_ERRORS.has((err as SvmError)?.code),
    (attempt) => 100 * 2 ** (attempt - 1),
    run.signal,
  );
}

/** An embedder request failed and is retried after a wait: say so (with the progress) while it waits. */
function embedderRetry(run: Run, n: RetryNotice): void {
  const text = `Embedder: ${redact(n.error.message)} Retrying in ${(n.waitMs / 1000).toFixed(1)} s (attempt ${n.attempt + 1} of ${n.attempts}).`;
  run.renderer.line(text);
  run.renderer.event('embedder-retry', {
    code: n.error.code,
    reason: redact(n.error.message),
    attempt: n.attempt + 1,
    attempts: n.attempts,
    waitMs: n.waitMs,
  });
  if (run.renderer.kind === 'none') run.log?.info(text);
  report(run);
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
  run: Run,
  writes: PendingWrite[],
  result: { migrated: number; failed: number; changed: number },
  worker: number,
): Promise<void> {
  try {
    const written = await withDbRetry(() => writeBatch(run.knex, run.target, writes, run.idParam));
    result.migrated += written;
    result.changed += writes.length - written;
  } catch (err) {
    if (!isRowDataError(err)) throw err;
    if (writes.length === 1) {
      fail(run, writes[0].id, err, result);
      return;
    }
    batchFailed(run, writes, err, worker, 'write');
    const mid = Math.ceil(writes.length / 2);
    await writeIsolating(run, writes.slice(0, mid), result, worker);
    await writeIsolating(run, writes.slice(mid), result, worker);
  }
}

function batchFailed(
  run: Run,
  rows: Array<{ id: string }>,
  err: unknown,
  worker: number,
  stage: 'embed' | 'write',
): void {
  run.renderer.event('batch-failed', {
    stage,
    worker,
    rows: rows.length,
    firstId: rows[0].id,
    lastId: rows[rows.length - 1].id,
    reason: redact((err as Error)?.message ?? String(err)),
    next: 'split',
  });
}

function fail(run: Run, id: string, err: unknown, result: { failed: number }): void {
  result.failed++;
  const reason = redact((err as Error)?.message ?? String(err));
  const failure = { id, reason };
  if (run.failures.length < MAX_LISTED_FAILURES) run.failures.push(failure);
  if (run.failuresFd !== undefined) fs.writeSync(run.failuresFd, JSON.stringify(failure) + '\n');
  run.renderer.event('row-failed', failure);
}

function noteDryRun(run: Run, id: string, terms: number, value: string): void {
  const w = run.wouldWrite;
  w.rows++;
  w.terms += terms;
  w.bytes += Buffer.byteLength(value);
  if (w.sample.length < SAMPLE_SIZE) w.sample.push({ id, terms, value });
}

function dryRunReport(run: Run): DryRunReport {
  const w = run.wouldWrite;
  return {
    rows: w.rows,
    averageTerms: w.rows ? w.terms / w.rows : 0,
    averageBytes: w.rows ? w.bytes / w.rows : 0,
    sample: w.sample,
  };
}

function printSummary(r: ProgressRenderer, s: BackfillSummary, options: BackfillOptions): void {
  r.line('');
  if (s.dryRun) {
    const w = s.wouldWrite!;
    r.line(
      `[DRY RUN] Would write ${n(w.rows)} vectors to ${options.config.table}.${options.config.sparseColumn} ` +
        `(on average ${w.averageTerms.toFixed(1)} terms, ${n(w.averageBytes)} bytes each)${w.sample.length ? ', for example:' : '.'}`,
    );
    for (const x of w.sample)
      r.line(`  id ${x.id}: ${x.terms} terms ${x.value.length > 100 ? x.value.slice(0, 100) + '...' : x.value}`);
    r.line(
      `[DRY RUN] Embedded ${n(s.migrated)} rows in ${duration(s.elapsedMs)} (${s.recordsPerSecond.toFixed(1)} rec/s); would write ${n(s.migrated)} vectors. Nothing was written.`,
    );
    if (s.migrated && s.remaining > s.migrated) {
      const eta = (s.remaining / Math.max(s.recordsPerSecond, 1e-9)) * 1000;
      r.line(
        `[DRY RUN] At this rate the ${n(s.remaining)} rows to migrate would take about ${duration(eta)} with these settings.`,
      );
    }
  } else {
    r.line(
      `Migrated: ${n(s.migrated)} | Failed: ${n(s.failed)} | Changed during the run: ${n(s.changed)} | Still NULL: ${n(s.remaining + s.failed)} | ` +
        `${duration(s.elapsedMs)} (${s.recordsPerSecond.toFixed(1)} rec/s)`,
    );
  }
  if (s.failed) {
    r.line(
      `Failed rows (they stay NULL and are retried by the next run)${options.failuresFile ? `; all listed in ${options.failuresFile}` : ''}:`,
    );
    for (const f of s.failures.slice(0, 20)) r.line(`  id ${f.id}: ${f.reason}`);
    if (s.failed > 20) r.line(`  ... and ${n(s.failed - 20)} more`);
  }
  if (s.changed && !s.dryRun)
    r.line(`${n(s.changed)} rows changed during the run and were not written; the next run embeds their new text.`);
  if (s.error) r.line(`The run stopped on an error: ${redact(s.error.message)}`);
  if (s.stopped) r.line('Stopped before the end: in-flight batches were finished, nothing was lost.');
  if (
    !s.dryRun &&
    (s.stopped || s.error || s.failed || s.remaining) &&
    (s.error as SvmError | undefined)?.code !== 'SCHEMA_DOWNGRADED'
  ) {
    r.line('To resume, run the same command again: rows still NULL are picked up.');
  }
}
