import type { Knex } from 'knex';
import { describeFingerprint } from '../embedders/fingerprint';
import type { SparseTarget } from '../dialect/dialect';
import type { SparseEmbedder } from '../embedders/types';
import { SparseVectorError } from '../errors';
import { quoteIdentifier as q } from '../identifiers';
import type { SparseSchemaContext } from '../schema/sparse-schema';
import { checkIndexLimit } from '../sparse/sparse-vector';
import { failpoint } from '../util/failpoint';
import { redact } from '../util/redact';
import { n } from './progress/format';
import { hasText } from './queries';
import { idPlaceholder } from './reader';
import type { BackfillReporter } from './reporter';
import { withDbRetry } from './retry';
import type { SeedLedger } from './seed-ledger';

/** What the rewrite pass of a re-embed needs (see rewriteStoredVectors). */
export interface ReembedPass {
  knex: Knex;
  schema: SparseSchemaContext;
  /** The new embedder. */
  embedder: SparseEmbedder;
  ledger: SeedLedger;
  seeder: string;
  /** Its fingerprint (canonical), and the one recorded for the stored vectors (if any). */
  to: string;
  from?: string | null;
  /** The checkpoint to resume after (the ledger's reembed_after). */
  after?: string | null;
  batchSize: number;
  /** Rows to rewrite at most in this run (undefined: all). */
  limit?: number;
  signal?: AbortSignal;
  reporter: BackfillReporter;
}

export interface ReembedResult {
  /** Stored vectors rewritten by this run. */
  rewritten: number;
  /** Rows the application changed between our read and our write: they keep the application's value. */
  changed: number;
  /** The pass reached the end of the table (the run may switch the recorded space). */
  complete: boolean;
  error?: Error;
}

interface StoredRow {
  id: string;
  text: string;
  /** MD5 of the text and of the stored vector, as read: the write is guarded with both. */
  hash: string;
  vectorHash: string;
}

/**
 * The rewrite pass of a re-embed: every row that has a vector (and a text) gets the new embedder's vector,
 * in keyset order from the checkpoint, in place: `UPDATE ... SET v = <new>` over the old value, so no row
 * that had a vector is ever without one. Each batch's UPDATEs and the new checkpoint commit in one
 * transaction: after a kill, the next run resumes after the last committed batch. A row is written only if
 * its text and its vector are still those read (MD5 of both): a value the application wrote after our read
 * is never overwritten. The pass stops at the first batch the embedder or the server refuses (rows keep their
 * old vectors; the error says which ids).
 */
export async function rewriteStoredVectors(p: ReembedPass): Promise<ReembedResult> {
  const result: ReembedResult = { rewritten: 0, changed: 0, complete: false };
  const idParam = await idPlaceholder(p.knex, p.schema.target);
  let after = p.after ?? undefined;
  const left = await countStored(p, after, idParam);
  p.reporter.message(
    `Re-embedding ${n(left)} stored vectors of ${p.schema.target.table}.${p.schema.target.sparseColumn} ` +
      `from ${describeFingerprint(p.from ?? '(not recorded)')} to ${describeFingerprint(p.to)}` +
      `${after === undefined ? '' : ` (resuming after id ${after})`}; the old vectors stay until each row's new one is written.`,
  );
  let lastReport = Date.now();
  while (!p.signal?.aborted) {
    const want =
      p.limit === undefined ? p.batchSize : Math.min(p.batchSize, p.limit - result.rewritten - result.changed);
    if (want <= 0) return result;
    const rows = await withDbRetry(() => readStored(p, after, want, idParam));
    if (!rows.length) return { ...result, complete: true };
    try {
      const written = await rewriteBatch(p, rows, idParam);
      result.rewritten += written;
      result.changed += rows.length - written;
    } catch (err) {
      const range = `ids ${rows[0].id}..${rows[rows.length - 1].id}`;
      return { ...result, error: batchError(err, range) };
    }
    after = rows[rows.length - 1].id;
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      p.reporter.message(`Re-embedded ${n(result.rewritten)} of ${n(left)} (checkpoint: id ${after})`);
    }
  }
  return result;
}

async function countStored(p: ReembedPass, after: string | undefined, idParam: string): Promise<number> {
  const t = p.schema.target;
  const [rows] = (await p.knex.raw(
    `SELECT COUNT(*) AS c FROM ${q(t.table)} WHERE ${q(t.sparseColumn)} IS NOT NULL AND ${hasText(q(t.textColumn))}` +
      (after === undefined ? '' : ` AND ${q(t.idColumn)} > ${idParam}`),
    after === undefined ? [] : [after],
  )) as [Array<{ c: unknown }>];
  return Number(rows[0]?.c ?? 0);
}

async function readStored(p: ReembedPass, after: string | undefined, limit: number, idParam: string) {
  const t = p.schema.target;
  const [rows] = (await p.knex.raw(
    `SELECT ${q(t.idColumn)} AS id, ${q(t.textColumn)} AS text, MD5(${q(t.textColumn)}) AS hash, ` +
      `MD5(${q(t.sparseColumn)}) AS vectorHash FROM ${q(t.table)} ` +
      `WHERE ${q(t.sparseColumn)} IS NOT NULL AND ${hasText(q(t.textColumn))}` +
      `${after === undefined ? '' : ` AND ${q(t.idColumn)} > ${idParam}`} ORDER BY ${q(t.idColumn)} LIMIT ?`,
    after === undefined ? [limit] : [after, limit],
  )) as [Array<{ id: unknown; text: string | Buffer; hash: string; vectorHash: string }>];
  return rows.map((r): StoredRow => ({
    id: String(r.id),
    text: Buffer.isBuffer(r.text) ? r.text.toString('utf8') : String(r.text),
    hash: String(r.hash),
    vectorHash: String(r.vectorHash),
  }));
}

/** Embed a batch, then write it and its checkpoint in one transaction; returns the rows written. */
async function rewriteBatch(p: ReembedPass, rows: StoredRow[], idParam: string): Promise<number> {
  const t = p.schema.target;
  const vectors = await p.embedder.embedDocuments(
    rows.map((r) => r.text),
    { signal: p.signal },
  );
  if (!Array.isArray(vectors) || vectors.length !== rows.length)
    throw new SparseVectorError(
      'EMBEDDER_BAD_RESPONSE',
      `The embedder returned no vector for some of ${rows.length} texts.`,
    );
  const values = vectors.map((v) => p.schema.dialect.encode(checkIndexLimit(v, p.schema.dialect.maxIndex)));
  const sql = rewriteSql(t, idParam);
  return withDbRetry(() =>
    p.knex.transaction(async (trx) => {
      let written = 0;
      for (let i = 0; i < rows.length; i++) {
        const [r] = (await trx.raw(sql, [values[i], rows[i].id, rows[i].hash, rows[i].vectorHash])) as [
          { affectedRows: number },
        ];
        written += Number(r.affectedRows ?? 0);
      }
      await p.ledger.reembedCheckpoint(trx, p.seeder, rows[rows.length - 1].id);
      await failpoint('reembed:before-commit'); // tests: rows and checkpoint written, not yet committed
      return written;
    }),
  );
}

/**
 * The re-embed's write of one row: the new vector over the old one, only while the row's text and vector are
 * those read (bindings: value, id, MD5 of the text, MD5 of the vector). `doctor` runs it too.
 */
export function rewriteSql(t: SparseTarget, idParam: string): string {
  return (
    `UPDATE ${q(t.table)} SET ${q(t.sparseColumn)} = ? WHERE ${q(t.idColumn)} = ${idParam} ` +
    `AND MD5(${q(t.textColumn)}) = ? AND MD5(${q(t.sparseColumn)}) = ?`
  );
}

function batchError(err: unknown, range: string): Error {
  const message = redact((err as Error)?.message ?? String(err));
  if (err instanceof SparseVectorError && err.code === 'EMBEDDER_AUTH') return err;
  return new SparseVectorError(
    'BACKFILL_FAILED',
    `The re-embed stopped at ${range}: ${message} These rows keep their old vectors.`,
    {
      hint: 'Fix the cause and run the same command again: it resumes at its checkpoint (the rows before are done).',
      cause: err,
    },
  );
}
