import { connectionFromOceanBaseEnv, isMysqlUrl, parseDatabaseUrl, type ConnectionConfig } from './connection-config';

/** The database settings found in the environment, and what the reader should be told about them. */
export interface EnvConnection {
  connection?: ConnectionConfig;
  /** Which setting was used: SPARSE_VECTOR_DATABASE_URL, OCEANBASE_* or DATABASE_URL. */
  source?: 'SPARSE_VECTOR_DATABASE_URL' | 'OCEANBASE_*' | 'DATABASE_URL';
  /** Lines for the CLIs to print (library code never prints). */
  notices: string[];
}

/**
 * Where the memories database is, next to an application's own settings:
 *   1. SPARSE_VECTOR_DATABASE_URL, this package's own variable, wins over everything;
 *   2. powermem's OCEANBASE_HOST/PORT/USER/PASSWORD/DATABASE win over DATABASE_URL, which an application
 *      often uses for another database (a postgres:// URL is then ignored, with a notice);
 *   3. DATABASE_URL, when it is a MySQL-protocol URL.
 */
export function connectionFromEnv(env: Record<string, string | undefined>): EnvConnection {
  if (env.SPARSE_VECTOR_DATABASE_URL) {
    return {
      connection: parseDatabaseUrl(env.SPARSE_VECTOR_DATABASE_URL, 'SPARSE_VECTOR_DATABASE_URL'),
      source: 'SPARSE_VECTOR_DATABASE_URL',
      notices: [],
    };
  }
  const oceanbase = connectionFromOceanBaseEnv(env);
  if (oceanbase) {
    const notices: string[] = [];
    if (env.DATABASE_URL && !isMysqlUrl(env.DATABASE_URL)) {
      notices.push(
        `DATABASE_URL (${scheme(env.DATABASE_URL)}) is not a MySQL-protocol URL: ignored; using OCEANBASE_HOST/OCEANBASE_DATABASE.`,
      );
    }
    return { connection: oceanbase, source: 'OCEANBASE_*', notices };
  }
  if (env.DATABASE_URL) {
    return {
      connection: parseDatabaseUrl(env.DATABASE_URL, 'DATABASE_URL', 'SPARSE_VECTOR_DATABASE_URL'),
      source: 'DATABASE_URL',
      notices: [],
    };
  }
  return { notices: [] };
}

function scheme(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? `${m[1]}://…` : 'not a URL';
}
