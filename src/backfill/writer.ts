import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { quoteIdentifier as q } from '../identifiers';
import { failpointSet } from '../util/failpoint';
import { executePrepared, lookupUpdate } from './lookup-write';
import { batchUpdate, fallbackShape, PLAIN_SHAPE, type BatchShape } from './write-shape';

export interface PendingWrite {
  id: string;
  /** MD5 of the text the vector was computed from, as read from the server. */
  hash: string;
  /** The encoded vector (dialect.encode), bound as a parameter. */
  value: string;
  /** The vector's indices (needed by writeBatchCounted, for the term statistics). */
  indices?: ArrayLike<number>;
}

/** How a batch is written: one UPDATE in the plan's shape, or per-row UPDATEs in one transaction (the fallback). */
export type WriteForm = 'batched' | 'per-row';

/**
 * Server errors that mean "this statement form is not supported here": syntax (1064), not supported (1235), and
 * for the prepared `lookup` shape: not preparable (1295), too many placeholders (1390), the server's limit
 * of prepared statements reached (1461).
 */
const FORM_REJECTED = new Set([1064, 1235, 1295, 1390, 1461]);

/**
 * How a run writes its batches: the batched statement's shape (write-shape.ts), or row by row once the
 * server rejected every shape. The engine makes one per run; without one, each knex instance has its own.
 */
export class WritePlan {
  form: WriteForm = 'batched';
  constructor(public shape: BatchShape = PLAIN_SHAPE) {}
}

const planOf = new WeakMap<Knex, WritePlan>();

function planFor(knex: Knex): WritePlan {
  let plan = planOf.get(knex);
  if (!plan) planOf.set(knex, (plan = new WritePlan()));
  return plan;
}

/** The form the writer uses on this knex instance without a plan (batched until the server rejects it). */
export function writeForm(knex: Knex): WriteForm {
  return planOf.get(knex)?.form ?? 'batched';
}

/**
 * Write a batch, in one statement when the server takes it: an UPDATE joined with the batch's (id, hash, value) rows.
 *
 *   UPDATE t JOIN (SELECT ? AS id, ? AS h, ? AS v UNION ALL SELECT ?, ?, ? ...) x ON t.id = x.id
 *   SET t.sparse_embedding = x.v WHERE t.sparse_embedding IS NULL AND MD5(t.document) = x.h
 *
 * (or another shape of it, see write-shape.ts; on MariaDB the lookup shape of lookup-write.ts, a prepared
 * single-table UPDATE that finds each row's values in the batch by its id). It only touches rows that are
 * still NULL and whose text still has the hash that was embedded, so a value the application wrote meanwhile
 * is never overwritten and an embedding of an old text is never stored. If the server rejects the plan's
 * shape (syntax, "not supported", or a statement it cannot prepare: FORM_REJECTED), the next shape is tried;
 * when none is left, the batch, and every later one of the plan, is written as per-row UPDATEs with the same
 * guard in one transaction (writePerRow), and `onFallback` is told the server's reason. Returns the number of
 * rows written (the others changed during the run).
 */
export async function writeBatch(
  knex: Knex,
  t: SparseTarget,
  items: readonly PendingWrite[],
  idParam = 'CAST(? AS SIGNED)',
  onFallback?: (reason: string) => void,
  plan = planFor(knex),
): Promise<number> {
  if (!items.length) return 0;
  while (plan.form === 'batched') {
    const shape = plan.shape;
    try {
      return await writeBatched(knex, t, items, idParam, shape);
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno === undefined || !FORM_REJECTED.has(errno)) throw err;
      if (plan.shape !== shape || plan.form !== 'batched') continue; // another batch moved the plan on already
      const next = fallbackShape(shape);
      if (next) plan.shape = next;
      else {
        plan.form = 'per-row';
        onFallback?.((err as Error).message); // the run's 'writer-fallback' event: the reporter says it once
      }
    }
  }
  return writePerRow(knex, t, items, idParam);
}

/** The batched form (see writeBatch), in the given shape (default: the plain one every server takes). */
export async function writeBatched(
  knex: Knex,
  t: SparseTarget,
  items: readonly PendingWrite[],
  idParam = 'CAST(? AS SIGNED)',
  shape: BatchShape = PLAIN_SHAPE,
): Promise<number> {
  const rejectedBy = rejectingFailpoint(shape);
  if (rejectedBy) {
    // Test hook: the server itself rejects the statement, as a server without this form would.
    await knex.raw(
      `SIGNAL SQLSTATE '0A000' SET MYSQL_ERRNO = 1235, MESSAGE_TEXT = 'batched UPDATE rejected (failpoint ${rejectedBy})'`,
    );
  }
  if (shape.rows === 'lookup') return executePrepared(knex, lookupUpdate(t, items, idParam));
  const { sql, bindings } = batchUpdate(t, items, idParam, shape);
  const [result] = (await knex.raw(sql, bindings)) as [{ affectedRows: number }];
  return Number(result.affectedRows ?? 0);
}

/**
 * Test hooks: writer:reject-batched (every batched shape rejected, as by a server without any of them),
 * writer:reject-lookup, writer:reject-values and writer:reject-range (that part of the shape, as by a server
 * without it).
 */
function rejectingFailpoint(shape: BatchShape): string | undefined {
  if (failpointSet('writer:reject-batched')) return 'writer:reject-batched';
  if (shape.rows === 'lookup' && failpointSet('writer:reject-lookup')) return 'writer:reject-lookup';
  if (shape.rows === 'values' && failpointSet('writer:reject-values')) return 'writer:reject-values';
  if (shape.range && failpointSet('writer:reject-range')) return 'writer:reject-range';
  return undefined;
}

/** The fallback: `UPDATE t SET c = ? WHERE id = ? AND c IS NULL AND MD5(text) = ?` per row, all in one transaction. */
export async function writePerRow(
  knex: Knex,
  t: SparseTarget,
  items: readonly PendingWrite[],
  idParam = 'CAST(? AS SIGNED)',
): Promise<number> {
  const sql =
    `UPDATE ${q(t.table)} SET ${q(t.sparseColumn)} = ? ` +
    `WHERE ${q(t.idColumn)} = ${idParam} AND ${q(t.sparseColumn)} IS NULL AND MD5(${q(t.textColumn)}) = ?`;
  return knex.transaction(async (trx) => {
    let written = 0;
    for (const w of items) {
      const [result] = (await trx.raw(sql, [w.value, w.id, w.hash])) as [{ affectedRows: number }];
      written += Number(result.affectedRows ?? 0);
    }
    return written;
  });
}
