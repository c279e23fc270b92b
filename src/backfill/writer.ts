import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { quoteIdentifier as q } from '../identifiers';

export interface PendingWrite {
  id: string;
  /** MD5 of the text the vector was computed from, as read from the server. */
  hash: string;
  /** The encoded vector (dialect.encode), bound as a parameter. */
  value: string;
  /** The vector's indices (needed by writeBatchCounted, for the term statistics). */
  indices?: ArrayLike<number>;
}

/**
 * Write a batch in one statement: an UPDATE joined with the batch's (id, hash, value) rows.
 *
 *   UPDATE t JOIN (SELECT ? AS id, ? AS h, ? AS v UNION ALL SELECT ?, ?, ? ...) x ON t.id = x.id
 *   SET t.sparse_embedding = x.v WHERE t.sparse_embedding IS NULL AND MD5(t.document) = x.h
 *
 * It only touches rows that are still NULL and whose text still has the hash that was embedded, so a value
 * the application wrote meanwhile is never overwritten and an embedding of an old text is never stored.
 * Returns the number of rows written (the others changed during the run).
 */
export async function writeBatch(
  knex: Knex,
  t: SparseTarget,
  items: readonly PendingWrite[],
  idParam = 'CAST(? AS SIGNED)',
): Promise<number> {
  if (!items.length) return 0;
  const rows = items
    .map((_, i) => (i === 0 ? `SELECT ${idParam} AS id, ? AS h, ? AS v` : `SELECT ${idParam}, ?, ?`))
    .join(' UNION ALL ');
  const bindings = items.flatMap((w) => [w.id, w.hash, w.value]);
  const [result] = (await knex.raw(
    `UPDATE ${q(t.table)} AS m JOIN (${rows}) AS x ON m.${q(t.idColumn)} = x.id ` +
      `SET m.${q(t.sparseColumn)} = x.v ` +
      `WHERE m.${q(t.sparseColumn)} IS NULL AND MD5(m.${q(t.textColumn)}) = x.h`,
    bindings,
  )) as [{ affectedRows: number }];
  return Number(result.affectedRows ?? 0);
}
