import { SparseVectorError } from '../errors';
import { registerSecret } from '../util/redact';
import { envText, objectSetting, settingFromEnv } from '../options/settings';
import { CONNECTION, MYSQL_PORT } from '../options/table-connection';
import { parseInteger } from './parse';
import { tlsFromUrl, type TlsOptions } from './url-tls';

/** Where the database is. Built from DATABASE_URL, from powermem's OCEANBASE_* variables, or from an object. */
export interface ConnectionConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** TLS (mysql2's `ssl` option), from the URL's ssl / ssl-ca parameters; plain TCP when absent. */
  ssl?: TlsOptions;
}

export type { TlsOptions } from './url-tls';

/** True for the URL schemes this package speaks (MySQL protocol); false for postgres:// and the like. */
export function isMysqlUrl(url: string): boolean {
  try {
    return SCHEMES.includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

const SCHEMES = ['mysql:', 'mysql2:', 'mariadb:', 'oceanbase:', 'seekdb:'];

/**
 * Parse `mysql://user:password@host:port/database` (also mariadb://, oceanbase://, seekdb://), with optional
 * TLS parameters (`?ssl=true`, `?ssl-ca=/path/ca.pem`, see url-tls.ts); other parameters are refused.
 */
export function parseDatabaseUrl(url: string, source = 'DATABASE_URL', ownVariable?: string): ConnectionConfig {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SparseVectorError('CONFIG_INVALID', `${source} is not a valid URL.`, {
      hint: `Use the form mysql://user:password@host:3306/database (special characters in the password percent-encoded).`,
    });
  }
  if (!SCHEMES.includes(u.protocol)) {
    const own = ownVariable
      ? ` If ${source} is your application's other database, set ${ownVariable} for this package instead.`
      : '';
    throw new SparseVectorError(
      'CONFIG_INVALID',
      `${source} has the scheme "${u.protocol}", which is not a MySQL-protocol URL.`,
      {
        hint: `Use one of ${SCHEMES.map((s) => s + '//').join(', ')} e.g. mysql://user:password@host:2881/database.${own}`,
      },
    );
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!u.hostname || !database) {
    throw new SparseVectorError('CONFIG_INVALID', `${source} must name a host and a database.`, {
      hint: `Use the form mysql://user:password@host:3306/database.`,
    });
  }
  const password = decodeURIComponent(u.password);
  registerSecret(password);
  const ssl = tlsFromUrl(u, source);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: parseInteger(u.port || undefined, `${source} port`, MYSQL_PORT, CONNECTION.port.range),
    user: decodeURIComponent(u.username) || CONNECTION.user.default,
    password,
    database,
    ...(ssl ? { ssl } : {}),
  };
}

/** Build a connection from the OCEANBASE_* variables powermem users already have, or undefined when none is set. */
export function connectionFromOceanBaseEnv(env: Record<string, string | undefined>): ConnectionConfig | undefined {
  const { host, port, user, password, database } = CONNECTION;
  const hostName = envText(host, env);
  if (!hostName) return undefined;
  const secret = env[password.env] ?? password.default;
  registerSecret(secret);
  const databaseName = envText(database, env);
  if (!databaseName) {
    throw new SparseVectorError('CONFIG_INVALID', `${host.env} is set but ${database.env} is not.`, {
      hint: `Set ${database.env} to the database that holds the memories table.`,
    });
  }
  return {
    host: hostName,
    port: settingFromEnv(port, env),
    user: envText(user, env) ?? user.default,
    password: secret,
    database: databaseName,
  };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** A powermem-style setting given as a string or a number (anything else counts as not given). */
const scalarText = (v: unknown): string | undefined =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;

/** powermem's `vector_store.config.host`, read through the option table's keys (a string, else undefined). */
export function vectorStoreHost(vs: Record<string, unknown>): string | undefined {
  return objectSetting(CONNECTION.host, vs, text);
}

/**
 * The connection in powermem's `vector_store.config` (host, port, user, password, db_name or database: the
 * option table's keys), or undefined when it has no host.
 */
export function connectionFromVectorStore(vs: Record<string, unknown>): ConnectionConfig | undefined {
  const { port, user, password, database } = CONNECTION;
  const host = vectorStoreHost(vs);
  if (host === undefined) return undefined;
  const secret = objectSetting(password, vs, text) ?? password.default;
  registerSecret(secret);
  return {
    host,
    port: parseInteger(
      objectSetting(port, vs, (v) => v as string | number | undefined),
      'vector_store.config.port',
      port.default,
      port.range,
    ),
    user: objectSetting(user, vs, text) ?? user.default,
    password: secret,
    database: objectSetting(database, vs, scalarText) ?? '',
  };
}

/** `mysql://user:****@host:port/db`, for logs. */
export function describeConnection(c: ConnectionConfig): string {
  return `mysql://${encodeURIComponent(c.user)}${c.password ? ':****' : ''}@${c.host}:${c.port}/${c.database}`;
}
