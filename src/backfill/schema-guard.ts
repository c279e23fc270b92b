import type { Knex } from 'knex';
import type { SparseVectorConfig } from '../config/config';
import { lockName } from '../db/lock';
import { SparseVectorError } from '../errors';
import { currentDatabase } from '../schema/inspect';
import { readSchemaState, type SparseSchemaContext } from '../schema/sparse-schema';
import type { Logger } from '../util/logger';
import { BACKFILL_SEEDER, SeedLedger } from './seed-ledger';
import { downgradeLockName, secondsLeft, waitForShards } from './shard-presence';

/**
 * Schema changes and the backfill exclude each other. A backfill run holds the table's seed lock (one per
 * shard); a step that removes the sparse column takes the same lock first, so it waits for (up to the lock
 * timeout) a running unsharded backfill instead of dropping the column under it, and then for the shards of
 * a sharded one through their presence locks and the downgrade lock (shard-presence.ts).
 */
export function seedLockName(database: string, table: string, shard = ''): string {
  return lockName('seed', database, table + shard);
}

type RawConnection = { query(sql: string, values: unknown[], cb: (err: Error | null, rows: unknown) => void): void };

/** knex's client: one connection of its pool, held for the session-scoped lock. */
interface PinnedPool {
  acquireConnection(): Promise<RawConnection>;
  releaseConnection(conn: RawConnection): Promise<void>;
}

function query<T>(conn: RawConnection, sql: string, values: unknown[]): Promise<T[]> {
  return new Promise((resolve, reject) =>
    conn.query(sql, values, (err, rows) => (err ? reject(err) : resolve(rows as T[]))),
  );
}

/**
 * Run `removeColumn` holding the table's backfill lock (on a connection of `knex`'s pool, held until it
 * returns), after marking the backfill seeder not done in the seeds ledger: the vectors are about to be
 * deleted, so a 'done' record must not outlive them. Waits for a running backfill, then for the shards of a
 * sharded one (see shard-presence.ts), up to config.lockTimeoutSeconds for both waits together; then refuses
 * with BACKFILL_RUNNING, having changed nothing.
 */
export async function withBackfillExcluded<T>(
  knex: Knex,
  config: SparseVectorConfig,
  log: Logger,
  removeColumn: () => Promise<T>,
): Promise<T> {
  const database = await currentDatabase(knex);
  const name = seedLockName(database, config.table);
  const pool = knex.client as PinnedPool;
  const conn = await pool.acquireConnection();
  const run = (sql: string, values: unknown[]) => query<Record<string, number | null>>(conn, sql, values);
  // One deadline for both waits: SPARSE_LOCK_TIMEOUT bounds the whole downgrade's wait, not each part.
  const deadline = Date.now() + config.lockTimeoutSeconds * 1000;
  try {
    await takeTableLock(conn, name, config, log);
    const downgrade = downgradeLockName(database, config.table);
    try {
      // Only downgrades take it, one at a time (they hold the migration lock): no wait.
      await run('SELECT GET_LOCK(?, 0) AS got', [downgrade]);
      const waiting = (n: number) =>
        log.info(
          `${n} shard(s) of a sharded backfill of table '${config.table}' are running: waiting up to ${secondsLeft(deadline)} s for them to end before removing the column...`,
        );
      if (!(await waitForShards(run, database, config.table, deadline, waiting))) {
        throw backfillRunning(config, config.lockTimeoutSeconds, 'A sharded backfill');
      }
      if (await new SeedLedger(config.seedsTable).markNotDone(knex, BACKFILL_SEEDER)) {
        log.info(
          `Marked the backfill seeder ${BACKFILL_SEEDER} as not done in '${config.seedsTable}' (its vectors are being deleted)`,
        );
      }
      return await removeColumn();
    } finally {
      await query(conn, 'SELECT RELEASE_LOCK(?), RELEASE_LOCK(?)', [downgrade, name]).catch(() => undefined);
    }
  } finally {
    await pool.releaseConnection(conn);
  }
}

/** The table's backfill lock on `conn`, waiting up to the lock timeout for a running whole-table backfill. */
async function takeTableLock(conn: RawConnection, name: string, config: SparseVectorConfig, log: Logger) {
  const timeout = config.lockTimeoutSeconds;
  const [state] = await query<{ free: number; holder: number | null }>(
    conn,
    'SELECT IS_FREE_LOCK(?) AS free, IS_USED_LOCK(?) AS holder',
    [name, name],
  );
  if (state?.free === 0) {
    log.info(
      `A backfill of table '${config.table}' is running (connection ${state.holder ?? '?'}): waiting up to ${timeout} s for it to end before removing the column...`,
    );
  }
  const [row] = await query<{ got: number | null }>(conn, 'SELECT GET_LOCK(?, ?) AS got', [name, timeout]);
  if (row?.got !== 1) throw backfillRunning(config, timeout, 'A backfill');
}

function backfillRunning(config: SparseVectorConfig, timeout: number, what: string): SparseVectorError {
  return new SparseVectorError(
    'BACKFILL_RUNNING',
    `${what} of table '${config.table}' is running; waited ${timeout} s for it to end. Nothing was changed.`,
    {
      hint: 'Stop the backfill (Ctrl-C or SIGTERM; a later run resumes it) or let it finish, then run the downgrade again (or raise SPARSE_LOCK_TIMEOUT).',
    },
  );
}

/**
 * The error that ended a backfill, explained when its cause is that the sparse column (or the table) is
 * gone: the schema was downgraded under the run (by a sharded run's neighbour, or by another tool). Running
 * the same command again cannot help then, so the message says what happened instead.
 */
export async function explainRunError(ctx: SparseSchemaContext, err: Error): Promise<Error> {
  const state = await readSchemaState(ctx).catch(() => undefined);
  if (!state || (state.tableExists && state.column?.expectedType)) return err;
  const { table, sparseColumn } = ctx.target;
  const gone = state.tableExists
    ? `The ${sparseColumn} column of table '${table}' was removed`
    : `Table '${table}' was removed`;
  return new SparseVectorError(
    'SCHEMA_DOWNGRADED',
    `${gone} while the backfill ran: the schema was downgraded. The backfill stopped; nothing more can be written.`,
    {
      hint: 'If the downgrade was meant, there is nothing to do. Otherwise run the upgrade again (npx umzug up), then the backfill.',
    },
  );
}
