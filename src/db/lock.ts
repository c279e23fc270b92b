import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { ConnectionConfig } from '../config/connection-config';
import { SparseVectorError } from '../errors';
import { connectionError, mysql2Options } from './knex';

/**
 * A cross-process lock: the server's advisory lock (GET_LOCK), held on one dedicated connection.
 * If the process dies, the server closes the connection and frees the lock, so a crash never leaves
 * it set (unlike knex's lock table). Available on MySQL, MariaDB, OceanBase >= 4.3.1 and seekdb.
 */
export interface HeldLock {
  readonly name: string;
  /** The server connection id holding the lock (for diagnostics and tests). */
  readonly connectionId: number;
  /**
   * Throws LOCK_LOST when the lock's connection is gone (the server killed it, the network dropped it):
   * the server freed the lock then, so another run may hold it now. Call it before writing what only the
   * holder may write (the ledger).
   */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

/** Lock names are at most 64 characters: long ones are shortened with a hash, keeping them unique. */
export function lockName(kind: string, database: string, table: string): string {
  const name = `sparse-vector:${kind}:${database}.${table}`;
  if (name.length <= 64) return name;
  return `sparse-vector:${kind}:${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}

/** A dedicated connection for locks; its loss is remembered (never an unhandled 'error' event), see assertHeld. */
async function lockConnection(c: ConnectionConfig): Promise<{ conn: mysql.Connection; state: LockState }> {
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection(mysql2Options(c));
  } catch (err) {
    throw connectionError(err, c) ?? err;
  }
  const state: LockState = { released: false };
  // After release() closed the connection, its end is no loss (assertHeld then says the lock was released).
  conn.on('error', (err: Error) => void (state.released || (state.lost ??= err.message)));
  conn.on(
    'end',
    () => void (state.released || (state.lost ??= 'its connection was closed (by the server or the network)')),
  );
  return { conn, state };
}

async function getLock(conn: mysql.Connection, name: string, timeoutSeconds: number) {
  const [[row]] = (await conn.query('SELECT GET_LOCK(?, ?) AS got, CONNECTION_ID() AS id', [name, timeoutSeconds])) as [
    Array<{ got: number | null; id: number }>,
    unknown,
  ];
  // The statement always returns one row; GET_LOCK gives NULL on an error (e.g. an invalid name).
  if (row.got === null) {
    throw new SparseVectorError(
      'LOCK_FAILED',
      `The server could not take the lock "${name}" (GET_LOCK returned NULL).`,
    );
  }
  return { got: row.got === 1, connectionId: Number(row.id) };
}

export async function acquireLock(
  c: ConnectionConfig,
  name: string,
  options: { timeoutSeconds: number; onWait?: (holderConnectionId: number | null) => void },
): Promise<HeldLock> {
  const { conn, state } = await lockConnection(c);
  try {
    const [[free]] = (await conn.query('SELECT IS_FREE_LOCK(?) AS free, IS_USED_LOCK(?) AS holder', [name, name])) as [
      Array<{ free: number; holder: number | null }>,
      unknown,
    ];
    if (free && free.free === 0) options.onWait?.(free.holder);
    const { got, connectionId } = await getLock(conn, name, options.timeoutSeconds);
    if (got) return heldLock(conn, name, connectionId, state);
    throw new SparseVectorError(
      'LOCK_TIMEOUT',
      `Another run holds the lock "${name}"; waited ${options.timeoutSeconds} s for it.`,
      {
        hint: 'Wait for the other run to finish and try again, or raise SPARSE_LOCK_TIMEOUT (seconds).',
      },
    );
  } catch (err) {
    conn.destroy();
    throw err;
  }
}

/** The first of `names` that is free, taken without waiting on one dedicated connection; undefined when all are held. */
export async function acquireFirstFreeLock(
  c: ConnectionConfig,
  names: readonly string[],
): Promise<HeldLock | undefined> {
  const { conn, state } = await lockConnection(c);
  try {
    for (const name of names) {
      const { got, connectionId } = await getLock(conn, name, 0);
      if (got) return heldLock(conn, name, connectionId, state);
    }
  } catch (err) {
    conn.destroy();
    throw err;
  }
  await conn.end().catch(() => conn.destroy());
  return undefined;
}

/** Run `fn` while holding the lock; the lock is released however `fn` ends. */
export async function withLock<T>(
  c: ConnectionConfig,
  name: string,
  options: { timeoutSeconds: number; onWait?: (holder: number | null) => void },
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(c, name, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** What a held lock knows about its connection: why it was lost (if it was), and whether it was released. */
interface LockState {
  lost?: string;
  released: boolean;
}

function heldLock(conn: mysql.Connection, name: string, connectionId: number, state: LockState): HeldLock {
  return {
    name,
    connectionId,
    assertHeld: async () => {
      if (!state.lost && !state.released) {
        try {
          const [[mine]] = (await conn.query('SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS mine', [name])) as [
            Array<{ mine: number | null }>,
            unknown,
          ];
          if (mine.mine === 1) return;
          state.lost = 'the server no longer lists it as ours';
        } catch (err) {
          state.lost ??= (err as Error).message;
        }
      }
      throw new SparseVectorError(
        'LOCK_LOST',
        `Lost the lock "${name}": ${state.lost ?? 'it was released'}. Stopped before writing the ledger.`,
        { hint: 'Nothing is lost (every step is idempotent): run the same command again.' },
      );
    },
    release: async () => {
      if (state.released) return;
      state.released = true;
      try {
        await conn.query('SELECT RELEASE_LOCK(?)', [name]);
      } catch {
        // The connection is gone: the server has already released the lock.
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
    },
  };
}
