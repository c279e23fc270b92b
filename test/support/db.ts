import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { parseDatabaseUrl, type ConnectionConfig } from '../../src/config/connection-config';
import { scratchDatabase } from '../../testing/scratch-database';

/** The server the tests use (set by global-setup.ts). */
export function serverUrl(): string {
  const url = process.env.SPARSE_TEST_DATABASE_URL;
  if (!url)
    throw new Error(
      'SPARSE_TEST_DATABASE_URL is not set: run the tests with `npm test` (jest global setup starts the server).',
    );
  return url;
}

export interface TestDatabase {
  name: string;
  url: string;
  connection: ConnectionConfig;
  knex: Knex;
  /** Environment for child processes that should use this database. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  drop(): Promise<void>;
}

/** A fresh, empty database on the test server (testing/scratch-database.ts), dropped by drop(). */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `svmt_${label.replace(/[^a-z0-9_]/gi, '_').slice(0, 30)}_${randomBytes(3).toString('hex')}`;
  const { url, knex, drop } = await scratchDatabase(serverUrl(), name);
  return {
    name,
    url,
    connection: { ...parseDatabaseUrl(serverUrl()), database: name },
    knex,
    env: (extra = {}) => ({ ...process.env, DATABASE_URL: url, ...extra }),
    // A test may have dropped it already, or stopped the server: nothing to clean up then.
    drop: () => drop().catch(() => undefined),
  };
}

/**
 * The test database's environment as a powermem user has it: OCEANBASE_HOST/PORT/USER/PASSWORD/DATABASE,
 * beside the application's own postgres DATABASE_URL (which this package must ignore).
 */
export function oceanbaseBesidePostgresEnv(db: TestDatabase): NodeJS.ProcessEnv {
  const c = db.connection;
  return {
    ...db.env(),
    DATABASE_URL: 'postgres://app:pw@pg.invalid/app',
    OCEANBASE_HOST: c.host,
    OCEANBASE_PORT: String(c.port),
    OCEANBASE_USER: c.user,
    OCEANBASE_PASSWORD: c.password,
    OCEANBASE_DATABASE: c.database,
  };
}

export { createMemoriesTable, insertSampleMemories } from '../../testing/sample-memories';
