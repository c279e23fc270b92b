import knexFactory, { type Knex } from 'knex';
import { parseDatabaseUrl, type ConnectionConfig } from '../src/config/connection-config';
import { knexLog, mysql2Options } from '../src/db/knex';
import { quoteDatabaseName as q } from '../src/identifiers';

/** A scratch database: its URL, a knex instance on it, and `drop()`, which closes that instance and drops it. */
export interface ScratchDatabase {
  url: string;
  knex: Knex;
  drop: () => Promise<void>;
}

/**
 * A fresh, empty database `name` on the server of `baseUrl` (dropped first if it exists), for the
 * benchmarks, the soak and the tests (test/support/db.ts). The caller ends with `drop()` (the benchmarks: a 1M-row table and its staged
 * vectors are over a gigabyte of the server's disk), or destroys `knex` to keep the data for a look.
 */
export async function scratchDatabase(baseUrl: string, name: string, pool = 4): Promise<ScratchDatabase> {
  const base = parseDatabaseUrl(baseUrl);
  await withAdmin(base, async (admin) => {
    await admin.raw(`DROP DATABASE IF EXISTS ${q(name)}`);
    await admin.raw(`CREATE DATABASE ${q(name)} CHARACTER SET utf8mb4`);
  });
  const u = new URL(baseUrl);
  u.pathname = '/' + name;
  const knex = knexFactory({
    client: 'mysql2',
    connection: mysql2Options({ ...base, database: name }),
    pool: { min: 0, max: pool },
    log: knexLog(),
  });
  return {
    url: u.toString(),
    knex,
    drop: async () => {
      await knex.destroy();
      await withAdmin(base, (admin) => admin.raw(`DROP DATABASE IF EXISTS ${q(name)}`));
    },
  };
}

/** A connection to the server with no database selected, for CREATE and DROP DATABASE. */
async function withAdmin(base: ConnectionConfig, fn: (admin: Knex) => Promise<unknown>): Promise<void> {
  const admin = knexFactory({
    client: 'mysql2',
    connection: { ...mysql2Options(base), database: undefined },
    log: knexLog(),
  });
  try {
    await fn(admin);
  } finally {
    await admin.destroy();
  }
}
