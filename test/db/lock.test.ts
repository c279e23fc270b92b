import { acquireFirstFreeLock, acquireLock, lockName, withLock, type HeldLock } from '../../src/db/lock';
import { SparseVectorError } from '../../src/errors';
import { waitUntil } from '../support/backfill';
import { createTestDatabase, type TestDatabase } from '../support/db';

/*
 * The advisory lock (src/db/lock.ts), in process against the real server: the guarantee behind "concurrent runs
 * apply the DDL once" and "a second seeder returns busy". The test holds locks itself and watches the server's
 * view of them (IS_USED_LOCK, the process list), so every outcome is decided by the server, not by timing.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('lock');
});
afterAll(async () => db.drop());

/** The connection id holding `name` on the server, or null when it is free. */
async function holderOf(name: string): Promise<number | null> {
  const [[row]] = await db.knex.raw('SELECT IS_USED_LOCK(?) AS holder', [name]);
  return row.holder === null ? null : Number(row.holder);
}

/** Whether the server still has the connection `id`. */
async function connectionAlive(id: number): Promise<boolean> {
  const [rows] = await db.knex.raw('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
  return rows.length > 0;
}

/** Connections of this test's database (the lock's connections use it too). */
async function connectionsOfDb(): Promise<number[]> {
  const [rows] = await db.knex.raw('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ?', [db.name]);
  return rows.map((r: { id: number }) => Number(r.id));
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(SparseVectorError);
    return (err as SparseVectorError).code;
  }
}

let n = 0;
const fresh = (label: string) => `svmt-lock-${label}-${process.pid}-${++n}`;

describe('acquireLock', () => {
  test('takes GET_LOCK on its own connection: the server lists that connection as the holder', async () => {
    const name = fresh('take');
    const onWait = jest.fn();
    const lock = await acquireLock(db.connection, name, { timeoutSeconds: 0, onWait });
    try {
      expect(lock.name).toBe(name);
      expect(await holderOf(name)).toBe(lock.connectionId);
      expect(onWait).not.toHaveBeenCalled(); // the lock was free: nobody to wait for
      await expect(lock.assertHeld()).resolves.toBeUndefined();
    } finally {
      await lock.release();
    }
  });

  test('a second acquirer with no wait is refused (LOCK_TIMEOUT) and told who holds it; its connection is closed', async () => {
    const name = fresh('busy');
    const first = await acquireLock(db.connection, name, { timeoutSeconds: 0 });
    try {
      const before = await connectionsOfDb();
      const onWait = jest.fn();
      const err = await acquireLock(db.connection, name, { timeoutSeconds: 0, onWait }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SparseVectorError);
      expect((err as SparseVectorError).code).toBe('LOCK_TIMEOUT');
      expect((err as SparseVectorError).message).toContain(name);
      expect(onWait).toHaveBeenCalledWith(first.connectionId);
      expect(await holderOf(name)).toBe(first.connectionId); // the first still holds it
      // The refused attempt's connection is gone (destroyed, not left open on the server).
      await waitUntil(async () => (await connectionsOfDb()).length <= before.length);
      await expect(first.assertHeld()).resolves.toBeUndefined();
    } finally {
      await first.release();
    }
  });

  test('a second acquirer that may wait gets the lock once the first releases it', async () => {
    const name = fresh('wait');
    const first = await acquireLock(db.connection, name, { timeoutSeconds: 0 });
    let waitedFor: number | null | undefined;
    const second = acquireLock(db.connection, name, { timeoutSeconds: 60, onWait: (h) => (waitedFor = h) });
    // The second stands at GET_LOCK on the server (seen in the process list) while the first holds the lock.
    await waitUntil(async () => {
      const [rows] = await db.knex.raw(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'SELECT GET_LOCK(%'",
        [db.name],
      );
      return rows.length > 0;
    });
    expect(waitedFor).toBe(first.connectionId);
    await first.release();
    const lock: HeldLock = await second;
    try {
      expect(lock.connectionId).not.toBe(first.connectionId);
      expect(await holderOf(name)).toBe(lock.connectionId);
    } finally {
      await lock.release();
    }
  });

  test('a connection the server refuses is CONNECTION_FAILED, naming the reason but not the password', async () => {
    const wrong = { ...db.connection, password: 'wrong-password-42' };
    const err = await acquireLock(wrong, fresh('auth'), { timeoutSeconds: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SparseVectorError);
    expect((err as SparseVectorError).code).toBe('CONNECTION_FAILED');
    expect((err as SparseVectorError).message).toContain('access was denied');
    expect((err as SparseVectorError).message).not.toContain('wrong-password-42');
  });

  test('GET_LOCK returning NULL (an invalid name) is LOCK_FAILED, not a lock', async () => {
    expect(await codeOf(acquireLock(db.connection, '', { timeoutSeconds: 0 }))).toBe('LOCK_FAILED');
  });
});

describe('a held lock', () => {
  test('release frees the lock on the server and closes its connection; a second release is a no-op', async () => {
    const name = fresh('release');
    const lock = await acquireLock(db.connection, name, { timeoutSeconds: 0 });
    await lock.release();
    expect(await holderOf(name)).toBeNull();
    await waitUntil(async () => !(await connectionAlive(lock.connectionId)));
    await expect(lock.release()).resolves.toBeUndefined();
    // Released: the holder may no longer write what only the holder may write.
    const err = await lock.assertHeld().catch((e: unknown) => e);
    expect((err as SparseVectorError).code).toBe('LOCK_LOST');
    expect((err as SparseVectorError).message).toContain('it was released');
    // Another run takes it at once.
    const next = await acquireLock(db.connection, name, { timeoutSeconds: 0 });
    await next.release();
  });

  test('assertHeld throws LOCK_LOST once the server killed the lock connection (the lock is free for others)', async () => {
    const name = fresh('lost');
    const lock = await acquireLock(db.connection, name, { timeoutSeconds: 0 });
    try {
      await expect(lock.assertHeld()).resolves.toBeUndefined();
      await db.knex.raw(`KILL CONNECTION ${lock.connectionId}`);
      await waitUntil(async () => (await holderOf(name)) === null); // the server freed it with the connection
      const err = await lock.assertHeld().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SparseVectorError);
      expect((err as SparseVectorError).code).toBe('LOCK_LOST');
      expect((err as SparseVectorError).message).toContain(name);
      // The reason is the one noted when the driver saw the connection end, not a later failed query.
      expect((err as SparseVectorError).message).toContain(
        ': its connection was closed (by the server or the network).',
      );
      // Asked again: still lost (remembered, never "held" again).
      expect(await codeOf(lock.assertHeld())).toBe('LOCK_LOST');
    } finally {
      await expect(lock.release()).resolves.toBeUndefined(); // the connection is gone: nothing to release
    }
  });

  test('a lock lost while another run took it over stays lost for the first holder', async () => {
    const name = fresh('taken');
    const lock = await acquireLock(db.connection, name, { timeoutSeconds: 0 });
    await db.knex.raw(`KILL CONNECTION ${lock.connectionId}`);
    const other = await acquireLock(db.connection, name, { timeoutSeconds: 5 });
    try {
      expect(await codeOf(lock.assertHeld())).toBe('LOCK_LOST');
      await expect(other.assertHeld()).resolves.toBeUndefined();
      // The first holder's release does not free the lock the other run holds now.
      await lock.release();
      expect(await holderOf(name)).toBe(other.connectionId);
    } finally {
      await other.release();
    }
  });
});

describe('acquireFirstFreeLock', () => {
  test('takes the first free name, skipping the ones held', async () => {
    const names = [fresh('a'), fresh('b'), fresh('c')];
    const held = await acquireLock(db.connection, names[0], { timeoutSeconds: 0 });
    try {
      const lock = await acquireFirstFreeLock(db.connection, names);
      expect(lock).toBeDefined();
      try {
        expect(lock!.name).toBe(names[1]);
        expect(await holderOf(names[1])).toBe(lock!.connectionId);
        expect(await holderOf(names[2])).toBeNull(); // only one is taken
        await expect(lock!.assertHeld()).resolves.toBeUndefined();
      } finally {
        await lock!.release();
      }
      expect(await holderOf(names[1])).toBeNull();
    } finally {
      await held.release();
    }
  });

  test('all held: undefined, and its connection is closed', async () => {
    const names = [fresh('x'), fresh('y')];
    const held = await Promise.all(names.map((name) => acquireLock(db.connection, name, { timeoutSeconds: 0 })));
    try {
      const before = await connectionsOfDb();
      expect(await acquireFirstFreeLock(db.connection, names)).toBeUndefined();
      await waitUntil(async () => (await connectionsOfDb()).length <= before.length);
      for (const [i, name] of names.entries()) expect(await holderOf(name)).toBe(held[i].connectionId);
    } finally {
      for (const h of held) await h.release();
    }
  });

  test('a name GET_LOCK refuses (NULL) is LOCK_FAILED', async () => {
    expect(await codeOf(acquireFirstFreeLock(db.connection, ['']))).toBe('LOCK_FAILED');
  });
});

describe('withLock', () => {
  test('runs the function while holding the lock and releases it after', async () => {
    const name = fresh('with');
    const seen = await withLock(db.connection, name, { timeoutSeconds: 0 }, async () => holderOf(name));
    expect(seen).not.toBeNull();
    expect(await holderOf(name)).toBeNull();
  });

  test('releases the lock when the function throws, and rethrows', async () => {
    const name = fresh('throw');
    const boom = new Error('boom');
    await expect(
      withLock(db.connection, name, { timeoutSeconds: 0 }, async () => {
        expect(await holderOf(name)).not.toBeNull();
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await holderOf(name)).toBeNull();
  });

  test('does not run the function when the lock is held elsewhere', async () => {
    const name = fresh('held');
    const held = await acquireLock(db.connection, name, { timeoutSeconds: 0 });
    try {
      const fn = jest.fn(async () => 1);
      expect(await codeOf(withLock(db.connection, name, { timeoutSeconds: 0 }, fn))).toBe('LOCK_TIMEOUT');
      expect(fn).not.toHaveBeenCalled();
    } finally {
      await held.release();
    }
  });
});

describe('lockName', () => {
  test('short names are kept; long ones are hashed to 64 characters, distinct per table', () => {
    expect(lockName('seed', 'db', 'memories')).toBe('sparse-vector:seed:db.memories');
    const exact = 'sparse-vector:seed:'.length;
    const fits = 'd.' + 't'.repeat(64 - exact - 2);
    expect(lockName('seed', 'd', fits.slice(2))).toBe(`sparse-vector:seed:${fits}`); // exactly 64: kept
    const long1 = lockName('seed', 'd', 't'.repeat(64 - exact - 1));
    const long2 = lockName('seed', 'd', 'u'.repeat(64 - exact - 1));
    expect(long1).toMatch(/^sparse-vector:seed:[0-9a-f]{40}$/);
    expect(long1.length).toBeLessThanOrEqual(64);
    expect(long1).not.toBe(long2);
  });
});
