import { envText } from '../options/settings';
import { CONNECTION } from '../options/table-connection';
import { connectionFromOceanBaseEnv, isMysqlUrl, parseDatabaseUrl, type ConnectionConfig } from './connection-config';

const { databaseUrl: OWN_URL, applicationUrl: APP_URL } = CONNECTION;

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
  const ownUrl = envText(OWN_URL, env);
  if (ownUrl) {
    return {
      connection: parseDatabaseUrl(ownUrl, OWN_URL.env),
      source: OWN_URL.env,
      notices: [],
    };
  }
  const appUrl = envText(APP_URL, env);
  const oceanbase = connectionFromOceanBaseEnv(env);
  if (oceanbase) {
    const notices: string[] = [];
    if (appUrl && !isMysqlUrl(appUrl)) {
      notices.push(
        `${APP_URL.env} (${scheme(appUrl)}) is not a MySQL-protocol URL: ignored; using ${CONNECTION.host.env}/${CONNECTION.database.env}.`,
      );
    }
    return { connection: oceanbase, source: 'OCEANBASE_*', notices };
  }
  if (appUrl) {
    return {
      connection: parseDatabaseUrl(appUrl, APP_URL.env, OWN_URL.env),
      source: APP_URL.env,
      notices: [],
    };
  }
  return { notices: [] };
}

function scheme(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? `${m[1]}://…` : 'not a URL';
}
