import type { Knex } from 'knex';
import type { SparseTarget } from '../dialect/dialect';
import { quoteIdentifier as q } from '../identifiers';
import { compareIds, idRange, type BatchRow } from './write-shape';

/*
 * The `lookup` shape of the batched write (write-shape.ts): one single-table UPDATE over the batch's id range
 * that finds each row's vector by the position of its id among the batch's sorted ids, sent as a prepared
 * statement (binary protocol: the server neither lexes the vectors as literals nor builds a derived table):
 *
 *   UPDATE t AS m SET m.v = ELT(INTERVAL(m.id, id1, …, idN), v1, …, vN)
 *   WHERE m.v IS NULL AND (m.id BETWEEN id1 AND id(N-1) OR m.id = idN)
 *     AND CONCAT(m.id, ':', MD5(m.text)) = ELT(INTERVAL(m.id, id1, …, idN), 'id1:h1', …, 'idN:hN')
 *
 * INTERVAL(x, N1, …, Nn) is the number of Ni <= x (a binary search when the Ni are constants); ELT(k, …) the
 * k-th argument. The guard compares the row's own id and text hash with the entry found: a row of the range
 * that is not in the batch finds its predecessor's entry, whose id is not its own, and is not written. The
 * ids are typed (CAST(? AS SIGNED), or UNSIGNED): INTERVAL compares integers exactly, but strings as doubles,
 * which cannot tell Snowflake ids apart. docs/benchmarks.md ("seventh look") has the measurements.
 */

/** The statement and its parameters, in the order of the statement's placeholders. */
export interface LookupStatement {
  sql: string;
  params: Array<string | null>;
}

/**
 * The number of entries a statement is prepared for: the smallest 2^k or 3·2^(k-1) that holds `n` rows. A
 * prepared statement stays on its connection, one per distinct text, so a batch is padded up to one of
 * these sizes: at most two statements per doubling of the batch size (28 up to 10,000 rows), padding under
 * half the rows.
 */
export function lookupSize(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  const threeQuarters = (size / 4) * 3;
  return size >= 4 && threeQuarters >= n ? threeQuarters : size;
}

/** Statement texts by target and size (each is built once; a run uses a few). */
const texts = new Map<string, string>();
const MAX_TEXTS = 64;

/** `range`: the id range's condition (write-shape.ts idRange), on `m`. */
function statementText(t: SparseTarget, idParam: string, size: number, range: string): string {
  const key = [t.table, t.idColumn, t.textColumn, t.sparseColumn, idParam, size, range].join('\0');
  let sql = texts.get(key);
  if (sql) return sql;
  const id = `m.${q(t.idColumn)}`;
  const ids = Array<string>(size).fill(idParam).join(', ');
  const list = Array<string>(size).fill('?').join(', ');
  const at = `INTERVAL(${id}, ${ids})`;
  sql =
    `UPDATE ${q(t.table)} AS m SET m.${q(t.sparseColumn)} = ELT(${at}, ${list}) ` +
    `WHERE m.${q(t.sparseColumn)} IS NULL AND ${range} ` +
    `AND CONCAT(${id}, ':', MD5(m.${q(t.textColumn)})) = ELT(${at}, ${list})`;
  if (texts.size >= MAX_TEXTS) texts.clear();
  texts.set(key, sql);
  return sql;
}

/**
 * The lookup statement of a batch (integer ids, as decimal text; `idParam` types them: CAST(? AS SIGNED) or
 * UNSIGNED, reader.ts idPlaceholder). The entries are sorted by id; the padding entries (up to lookupSize)
 * carry the largest id with no vector and no key, and stand before the real last entry, so that INTERVAL,
 * which counts the ids <= x, lands on the real entry for the largest id.
 */
export function lookupUpdate(t: SparseTarget, items: readonly BatchRow[], idParam: string): LookupStatement {
  const sorted = [...items].sort((a, b) => compareIds(a.id, b.id));
  const size = lookupSize(sorted.length);
  const last = sorted[sorted.length - 1];
  const pad = size - sorted.length;
  const head = sorted.slice(0, -1);
  const ids = [...head.map((w) => w.id), ...Array<string>(pad).fill(last.id), last.id];
  const values = [...head.map((w) => w.value), ...Array<null>(pad).fill(null), last.value];
  const keys = [...head.map(keyOf), ...Array<null>(pad).fill(null), keyOf(last)];
  const range = idRange(`m.${q(t.idColumn)}`, idParam, sorted);
  return {
    sql: statementText(t, idParam, size, range.sql),
    params: [...ids, ...values, ...range.bindings, ...ids, ...keys],
  };
}

/** What the guard compares a row with: its id and its text's MD5, as the server writes them. */
const keyOf = (w: BatchRow): string => `${w.id}:${w.hash}`;

interface PreparingConnection {
  __knexUid?: string;
  __knexTxId?: string;
  execute(sql: string, values: unknown[], cb: (err: Error | null, result?: { affectedRows?: number }) => void): void;
}

/**
 * Run a statement as a prepared statement on the driver's connection (mysql2 keeps it prepared there for
 * the next batch of the same size). In a transaction, `knex.client` hands out the transaction's connection.
 * Returns the number of rows changed. Below knex's query builder, so it emits knex's `query`,
 * `query-response` and `query-error` events itself: an application's `knex.on('query', …)` sees this write
 * as it sees the others. A server error's message starts with the statement, as knex's do
 * (`<statement> - <server message>`; here with its placeholders, never its values), so that the callers'
 * shortenStatementError cuts it alike.
 */
export async function executePrepared(knex: Knex, statement: LookupStatement): Promise<number> {
  const client = knex.client as Knex.Client;
  const connection = (await client.acquireConnection()) as PreparingConnection;
  const query = () => ({
    __knexUid: connection.__knexUid,
    __knexTxId: connection.__knexTxId,
    method: 'update',
    sql: statement.sql,
    bindings: statement.params,
  });
  try {
    client.emit('query', query());
    const result = await new Promise<{ affectedRows?: number }>((resolve, reject) =>
      connection.execute(statement.sql, statement.params, (err, r) =>
        err ? reject(withStatement(err, statement.sql)) : resolve(r ?? {}),
      ),
    ).catch((err: unknown) => {
      client.emit('query-error', err, query());
      throw err;
    });
    client.emit('query-response', result, query());
    return Number(result.affectedRows ?? 0);
  } finally {
    await client.releaseConnection(connection);
  }
}

function withStatement(err: Error, sql: string): Error {
  const sqlMessage = (err as { sqlMessage?: unknown }).sqlMessage;
  if (typeof sqlMessage === 'string' && err.message === sqlMessage) err.message = `${sql} - ${sqlMessage}`;
  return err;
}
