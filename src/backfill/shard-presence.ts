import type { ConnectionConfig } from '../config/connection-config';
import { acquireFirstFreeLock, lockName, type HeldLock } from '../db/lock';
import { MAX_SHARDS } from '../options/read';

/**
 * Sharded backfills and the downgrade. Shards of one table run side by side, each under its own lock, so no
 * single lock tells the downgrade that shards are running. Each running shard therefore also holds one of
 * SHARD_SLOTS presence locks, and checks after taking it that the table's downgrade lock is free; if not, it
 * does not start. The downgrade takes the downgrade lock first, then waits for every presence lock it finds
 * held. So a shard either took its presence lock before the downgrade looked (and is waited for), or took it
 * after and sees the downgrade's lock (and stays out). Whole-table runs do not take the downgrade lock: shards
 * still run beside them. One lock per connection on the shard's side; the downgrade holds its locks and waits
 * on one connection (a session may hold several named locks on MySQL >= 5.7, MariaDB, OceanBase and seekdb).
 */
export const SHARD_SLOTS = MAX_SHARDS;

/** Held by a downgrade while it waits for shards and removes the column. */
export function downgradeLockName(database: string, table: string): string {
  return lockName('downgrade', database, table);
}

export function shardSlotName(database: string, table: string, slot: number): string {
  return lockName('seed-shard', database, `${table}#${slot}`);
}

/**
 * A presence lock for shard `index` (slots tried from the shard's own index on, so the shards of one run each
 * find theirs at the first try), or undefined when `downgradeLockFree()` says a downgrade is running.
 */
export async function enterShard(
  connection: ConnectionConfig,
  table: string,
  index: number,
  downgradeLockFree: () => Promise<boolean>,
): Promise<HeldLock | undefined> {
  const names = Array.from({ length: SHARD_SLOTS }, (_, j) =>
    shardSlotName(connection.database, table, (index + j) % SHARD_SLOTS),
  );
  const slot = await acquireFirstFreeLock(connection, names);
  if (!slot) return undefined;
  if (await downgradeLockFree()) return slot;
  await slot.release();
  return undefined;
}

/** Whole seconds left until `deadline` (ms since the epoch), at least 0: what GET_LOCK is given. */
export function secondsLeft(deadline: number): number {
  return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
}

type Query = (sql: string, values: unknown[]) => Promise<Array<Record<string, number | null>>>;

/** The presence locks held now (read in a few statements). */
async function heldSlots(query: Query, database: string, table: string): Promise<string[]> {
  const names = Array.from({ length: SHARD_SLOTS }, (_, k) => shardSlotName(database, table, k));
  const held: string[] = [];
  for (let from = 0; from < names.length; from += 256) {
    const chunk = names.slice(from, from + 256);
    const [row] = await query(`SELECT ${chunk.map((_, i) => `IS_FREE_LOCK(?) AS f${i}`).join(', ')}`, chunk);
    chunk.forEach((name, i) => row?.[`f${i}`] === 0 && held.push(name));
  }
  return held;
}

/**
 * Wait until no shard of `table` runs, at most until `deadline` (ms since the epoch); false when one still
 * runs then. Called while holding the table's backfill lock (no new shard starts meanwhile); `onWait` is told
 * how many run.
 */
export async function waitForShards(
  query: Query,
  database: string,
  table: string,
  deadline: number,
  onWait: (running: number) => void,
): Promise<boolean> {
  const held = await heldSlots(query, database, table);
  if (held.length) onWait(held.length);
  for (const name of held) {
    const [row] = await query('SELECT GET_LOCK(?, ?) AS got', [name, secondsLeft(deadline)]);
    if (row?.got !== 1) return false;
    await query('SELECT RELEASE_LOCK(?)', [name]);
  }
  return true;
}

/**
 * Whether another backfill of `table` runs now: a shard (a presence lock held, besides the caller's own when
 * it is a shard) or a whole-table run (`tableLock` held, unless the caller is that run). Checked before an
 * embedder recorded by a run that stored no vector yet is forgotten: that run may be about to write.
 */
export async function otherBackfillRuns(
  query: Query,
  database: string,
  table: string,
  tableLock: string,
  caller: 'shard' | 'table',
): Promise<boolean> {
  const shards = (await heldSlots(query, database, table)).length - (caller === 'shard' ? 1 : 0);
  if (shards > 0) return true;
  if (caller === 'table') return false;
  const [row] = await query('SELECT IS_FREE_LOCK(?) AS free', [tableLock]);
  return row?.free === 0;
}
