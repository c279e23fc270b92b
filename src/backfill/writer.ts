import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { quoteIdentifier as q } from '../identifiers';
import { failpointSet } from '../util/failpoint';

export interface PendingWrite {
  id: string;
  /** MD5 of the text the vector was computed from, as read from the server. */
  hash: string;
  /** The encoded vector (dialect.encode), bound as a parameter. */
  value: string;
  /** The vector's indices (needed by writeBatchCounted, for the term statistics). */
  indices?: ArrayLike<number>;
}

/** How a batch is written: one UPDATE … JOIN, or per-row UPDATEs in one transaction (the fallback). */
export type WriteForm = 'batched' | 'per-row';

/** Server errors that mean "this statement form is not supported here": syntax (1064), not supported (1235). */
const FORM_REJECTED = new Set([1064, 1235]);

/** Per knex instance (one per run): once the server rejected the batched form, every later batch goes per row. */
const formOf = new WeakMap<Knex, WriteForm>();

/** The form the writer uses on this knex instance (batched until the server rejects it). */
export function writeForm(knex: Knex): WriteForm {
  return formOf.get(knex) ?? 'batched';
}

/**
 * Write a batch, in one statement when the server takes it: an UPDATE joined with the batch's (id, hash, value) rows.
 *
 *   UPDATE t JOIN (SELECT ? AS id, ? AS h, ? AS v UNION ALL SELECT ?, ?, ? ...) x ON t.id = x.id
 *   SET t.sparse_embedding = x.v WHERE t.sparse_embedding IS NULL AND MD5(t.document) = x.h
 *
 * It only touches rows that are still NULL and whose text still has the hash that was embedded, so a value
 * the application wrote meanwhile is never overwritten and an embedding of an old text is never stored.
 * If the server rejects that form (syntax or "not supported"), the batch, and every later one on this knex
 * instance, is written as per-row UPDATEs with the same guard in one transaction (writePerRow), and
 * `onFallback` is told the server's reason.
 * Returns the number of rows written (the others changed during the run).
 */
export async function writeBatch(
  knex: Knex,
  t: SparseTarget,
  items: readonly PendingWrite[],
  idParam = 'CAST(? AS SIGNED)',
  onFallback?: (reason: string) => void,
): Promise<number> {
  if (!items.length) return 0;
  if (writeForm(knex) === 'per-row') return writePerRow(knex, t, items, idParam);
  try {
    return await writeBatched(knex, t, items, idParam);
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    if (errno === undefined || !FORM_REJECTED.has(errno)) throw err;
    formOf.set(knex, 'per-row');
    onFallback?.((err as Error).message); // the run's 'writer-fallback' event: the reporter says it once
    return writePerRow(knex, t, items, idParam);
  }
}

/** The batched form (see writeBatch). */
export async function writeBatched(
  knex: Knex,
  t: SparseTarget,
  items: readonly PendingWrite[],
  idParam = 'CAST(? AS SIGNED)',
): Promise<number> {
  const rows = items
    .map((_, i) => (i === 0 ? `SELECT ${idParam} AS id, ? AS h, ? AS v` : `SELECT ${idParam}, ?, ?`))
    .join(' UNION ALL ');
  const bindings = items.flatMap((w) => [w.id, w.hash, w.value]);
  const sql =
    `UPDATE ${q(t.table)} AS m JOIN (${rows}) AS x ON m.${q(t.idColumn)} = x.id ` +
    `SET m.${q(t.sparseColumn)} = x.v ` +
    `WHERE m.${q(t.sparseColumn)} IS NULL AND MD5(m.${q(t.textColumn)}) = x.h`;
  if (failpointSet('writer:reject-batched')) {
    // Test hook: the server itself rejects the statement, as a server without the batched form would.
    await knex.raw(
      "SIGNAL SQLSTATE '0A000' SET MYSQL_ERRNO = 1235, MESSAGE_TEXT = 'UPDATE ... JOIN rejected (failpoint writer:reject-batched)'",
    );
  }
  const [result] = (await knex.raw(sql, bindings)) as [{ affectedRows: number }];
  return Number(result.affectedRows ?? 0);
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
