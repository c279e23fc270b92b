import knexFactory, { type Knex } from 'knex';
import { parseDatabaseUrl } from '../src/config/connection-config';
import { knexLog, mysql2Options } from '../src/db/knex';
import { quoteDatabaseName as q } from '../src/identifiers';

/**
 * A fresh, empty database `name` on the server of `baseUrl` (dropped first if it exists), for the
 * benchmarks and the soak: its URL and a knex instance on it (the caller destroys it).
 */
export async function scratchDatabase(baseUrl: string, name: string, pool = 4): Promise<{ url: string; knex: Knex }> {
  const base = parseDatabaseUrl(baseUrl);
  const admin = knexFactory({
    client: 'mysql2',
    connection: { ...mysql2Options(base), database: undefined },
    log: knexLog(),
  });
  try {
    await admin.raw(`DROP DATABASE IF EXISTS ${q(name)}`);
    await admin.raw(`CREATE DATABASE ${q(name)} CHARACTER SET utf8mb4`);
  } finally {
    await admin.destroy();
  }
  const u = new URL(baseUrl);
  u.pathname = '/' + name;
  return {
    url: u.toString(),
    knex: knexFactory({
      client: 'mysql2',
      connection: mysql2Options({ ...base, database: name }),
      pool: { min: 0, max: pool },
      log: knexLog(),
    }),
  };
}
