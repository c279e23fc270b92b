import mysql from 'mysql2/promise';
import {
  dbRetryPolicy,
  isRowDataError,
  isTransientDbError,
  retryWhile,
  retryWhilePolicy,
  withDbRetry,
} from '../../src/backfill/retry';
import { mysql2Options } from '../../src/db/knex';
import { waitUntil } from '../support/backfill';
import { createTestDatabase, type TestDatabase } from '../support/db';

/*
 * Which database errors the backfill retries and which belong to a row's data (src/backfill/retry.ts), with the
 * errors the real server gives (a killed connection, a missing table, a value the column refuses), and the
 * retry policies' attempts and pauses (read from the policy itself: no test waits for a pause).
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('retry');
  await db.knex.raw('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(3) NOT NULL)');
});
afterAll(async () => db.drop());

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** The error of a statement on a connection the server killed (first on the dead connection, then after). */
async function killedConnectionErrors(): Promise<unknown[]> {
  const conn = await mysql.createConnection(mysql2Options(db.connection));
  conn.on('error', () => undefined);
  const [[row]] = (await conn.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
  const errors: unknown[] = [];
  try {
    // The kill lands while the statement runs: the server ends it and drops the connection. Its error is
    // caught at once: the connection's close may be seen before the KILL's answer (no unhandled rejection).
    const running = errorOf(conn.query('SELECT SLEEP(60)'));
    await waitUntil(async () => {
      const [rows] = await db.knex.raw(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE 'SELECT SLEEP%'",
        [row.id],
      );
      return rows.length > 0;
    });
    await db.knex.raw(`KILL CONNECTION ${row.id}`);
    errors.push(await running);
    errors.push(await errorOf(conn.query('SELECT 1')));
  } finally {
    conn.destroy();
  }
  return errors;
}

describe('isTransientDbError / isRowDataError with the real server', () => {
  test('a killed connection (during a statement, and a statement sent after) is transient, not a row error', async () => {
    const errors = await killedConnectionErrors();
    expect(errors).toHaveLength(2);
    for (const err of errors) {
      expect(isTransientDbError(err)).toBe(true);
      expect(isRowDataError(err)).toBe(false);
    }
  });

  test('a missing table is neither transient nor a row error (it ends the run)', async () => {
    const err = await errorOf(db.knex.raw('SELECT * FROM no_such_table'));
    expect((err as { code: string }).code).toBe('ER_NO_SUCH_TABLE');
    expect(isTransientDbError(err)).toBe(false);
    expect(isRowDataError(err)).toBe(false);
  });

  test('a value the column refuses is a row error (split the batch), not transient', async () => {
    const err = await errorOf(db.knex.raw("INSERT INTO t VALUES (1, 'too long')"));
    expect((err as { errno: number }).errno).toEqual(expect.any(Number));
    expect(isRowDataError(err)).toBe(true);
    expect(isTransientDbError(err)).toBe(false);
  });

  test('a lock wait timeout is transient', async () => {
    await db.knex.raw("INSERT INTO t VALUES (2, 'a') ON DUPLICATE KEY UPDATE v = 'a'");
    const holder = await db.knex.transaction();
    try {
      await holder.raw('SELECT * FROM t WHERE id = 2 FOR UPDATE');
      const err = await errorOf(
        db.knex.transaction(async (trx) => {
          await trx.raw('SET SESSION innodb_lock_wait_timeout = 1');
          await trx.raw("UPDATE t SET v = 'b' WHERE id = 2");
        }),
      );
      expect((err as { code: string }).code).toBe('ER_LOCK_WAIT_TIMEOUT');
      expect(isTransientDbError(err)).toBe(true);
      expect(isRowDataError(err)).toBe(false);
    } finally {
      await holder.rollback();
    }
  });

  test('errors that are not the server’s: a closed connection without a code is transient, others are neither', () => {
    expect(isTransientDbError(Object.assign(new Error('closed'), { fatal: true }))).toBe(true);
    expect(isTransientDbError(Object.assign(new Error('closed'), { fatal: false }))).toBe(false);
    expect(isTransientDbError(Object.assign(new Error('x'), { fatal: true, code: 'ER_PARSE_ERROR' }))).toBe(false);
    expect(isTransientDbError(Object.assign(new Error('pool'), { name: 'KnexTimeoutError' }))).toBe(true);
    expect(isTransientDbError(Object.assign(new Error('x'), { code: 1213 }))).toBe(false);
    expect(isTransientDbError(new TypeError('a bug'))).toBe(false);
    expect(isTransientDbError(undefined)).toBe(false);
    expect(isRowDataError(new TypeError('a bug'))).toBe(false);
    expect(isRowDataError(Object.assign(new Error('no errno'), { code: 'ER_DATA_TOO_LONG' }))).toBe(false);
    expect(isRowDataError(Object.assign(new Error('not a server code'), { code: 'EPROTO', errno: 71 }))).toBe(false);
    expect(isRowDataError(Object.assign(new Error('string errno'), { code: 'ER_DATA_TOO_LONG', errno: '1406' }))).toBe(
      false,
    );
    expect(isRowDataError(undefined)).toBe(false);
  });
});

describe('the policies', () => {
  const transient = Object.assign(new Error('gone'), { code: 'PROTOCOL_CONNECTION_LOST' });
  const fatal = Object.assign(new Error('no table'), { code: 'ER_NO_SUCH_TABLE', errno: 1146 });

  test('dbRetryPolicy: 3 attempts by default, pauses 200 and 400 ms, then gives up; other errors at once', () => {
    const p = dbRetryPolicy();
    expect([1, 2, 3].map((a) => p.pauseMs(transient, a))).toEqual([200, 400, undefined]);
    expect(p.pauseMs(fatal, 1)).toBeUndefined();
    const q = dbRetryPolicy(5, 10);
    expect([1, 2, 3, 4, 5].map((a) => q.pauseMs(transient, a))).toEqual([10, 20, 30, 40, undefined]);
  });

  test('retryWhilePolicy: no retry once the signal has aborted, nor for an error the predicate refuses', () => {
    const controller = new AbortController();
    const p = retryWhilePolicy(
      3,
      (err) => err === transient,
      (a) => a * 7,
      controller.signal,
    );
    expect(p.signal).toBe(controller.signal);
    expect(p.pauseMs(transient, 1)).toBe(7);
    expect(p.pauseMs(transient, 2)).toBe(14);
    expect(p.pauseMs(transient, 3)).toBeUndefined();
    expect(p.pauseMs(fatal, 1)).toBeUndefined();
    controller.abort();
    expect(p.pauseMs(transient, 1)).toBeUndefined();
    expect(
      retryWhilePolicy(
        1,
        () => true,
        () => 1,
      ).pauseMs(transient, 1),
    ).toBeUndefined();
  });
});

describe('withDbRetry and retryWhile', () => {
  test('withDbRetry: a statement whose connection was killed is made again; the third failure is rethrown', async () => {
    const [killed] = await killedConnectionErrors();
    let calls = 0;
    await expect(
      withDbRetry(
        async () => {
          if (++calls < 3) throw killed;
          return 'written';
        },
        3,
        1,
      ),
    ).resolves.toBe('written');
    expect(calls).toBe(3);
    calls = 0;
    const err = await errorOf(
      withDbRetry(
        async () => {
          // A retry loop that does not stop ends here (with a value the test refuses) instead of hanging.
          if (++calls > 10) return 'runaway';
          throw killed;
        },
        3,
        1,
      ),
    );
    expect(err).toBe(killed);
    expect(calls).toBe(3);
  });

  test('withDbRetry: a missing table is not retried', async () => {
    let calls = 0;
    const err = await errorOf(
      withDbRetry(async () => {
        calls++;
        return db.knex.raw('SELECT * FROM no_such_table');
      }),
    );
    expect((err as { code: string }).code).toBe('ER_NO_SUCH_TABLE');
    expect(calls).toBe(1);
  });

  test('retryWhile: retries while the predicate holds, up to the attempts; an aborted signal stops retries', async () => {
    let calls = 0;
    const pauses: number[] = [];
    await expect(
      retryWhile(
        async () => {
          if (++calls < 4) throw new Error('again');
          return calls;
        },
        4,
        () => true,
        (a) => (pauses.push(a), 0),
      ),
    ).resolves.toBe(4);
    expect(pauses).toEqual([1, 2, 3]);
    const controller = new AbortController();
    controller.abort();
    calls = 0;
    const first = new Error('first');
    expect(
      await errorOf(
        retryWhile(
          async () => {
            if (++calls > 10) return 'runaway';
            throw first;
          },
          4,
          () => true,
          () => 0,
          controller.signal,
        ),
      ),
    ).toBe(first);
    expect(calls).toBe(1);
  });
});
