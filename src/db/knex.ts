import knexFactory, { Knex } from 'knex';
import type { ConnectionConfig } from '../config/connection-config';
import { describeConnection } from '../config/connection-config';
import { SparseVectorError } from '../errors';
import { createConsoleLogger, type Logger } from '../util/logger';
import { redact } from '../util/redact';

/** mysql2 options shared by the pool and the dedicated lock connection. */
export function mysql2Options(c: ConnectionConfig) {
  return {
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: c.database,
    charset: 'utf8mb4',
    // powermem ids are Snowflake BIGINTs (> 2^53): keep them exact, as strings.
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    connectTimeout: 10_000,
    ...(c.ssl ? { ssl: c.ssl } : {}),
  };
}

/** knex reads `userParams` from its config at run time; its type declarations omit it. */
export type KnexConfigWithUserParams = Knex.Config & { userParams?: Record<string, unknown> };

/**
 * knex's own log (by default console.log on stdout, e.g. "Acquire connection error: ... at Packet.asError" with
 * a stack) routed to our logger's debug level, first line only: the error itself reaches the caller as a
 * rejected query and is reported once, by us. Silent unless LOG_LEVEL=debug.
 */
export function knexLog(
  logger: Logger = createConsoleLogger({ out: process.stderr }),
): NonNullable<Knex.Config['log']> {
  const line = (message: unknown) => {
    const text =
      message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    logger.debug(`knex: ${String(text).split('\n')[0]}`);
  };
  return { warn: line, error: line, deprecate: line, debug: line, enableColors: false };
}

/** A knex instance over mysql2 for one database; knex's own log lines go to knexLog (silent unless debugging). */
export function createKnex(
  c: ConnectionConfig,
  options: { pool?: number; userParams?: Record<string, unknown>; logger?: Logger } = {},
): Knex {
  const config: KnexConfigWithUserParams = {
    client: 'mysql2',
    connection: mysql2Options(c),
    pool: { min: 0, max: options.pool ?? 4 },
    userParams: options.userParams ?? {},
    log: knexLog(options.logger),
  };
  return knexFactory(config);
}

/**
 * Run `fn` with the caller's knex instance, or with one made by `create` and destroyed when `fn` is done
 * (whatever its outcome). The caller's instance is never destroyed: it belongs to the application.
 */
export async function withKnex<T>(
  given: Knex | undefined,
  create: () => Knex,
  fn: (knex: Knex) => Promise<T>,
): Promise<T> {
  const knex = given ?? create();
  try {
    return await fn(knex);
  } finally {
    if (!given) await knex.destroy();
  }
}

const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (is the server running, and is the port right?)',
  ENOTFOUND: 'the host name could not be resolved',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ER_ACCESS_DENIED_ERROR: 'access was denied (wrong user name or password)',
  ER_BAD_DB_ERROR: 'the database does not exist',
  ER_DBACCESS_DENIED_ERROR: 'the user may not access this database',
};

/** Turn a driver error met while connecting into an SparseVectorError that names the server but not the password. */
export function connectionError(err: unknown, c: ConnectionConfig): SparseVectorError | undefined {
  const code = (err as { code?: string } | undefined)?.code;
  if (!code || !(code in CONNECT_ERRORS)) return undefined;
  return new SparseVectorError(
    'CONNECTION_FAILED',
    `Cannot connect to ${describeConnection(c)}: ${CONNECT_ERRORS[code]} [${code}].`,
    {
      hint: 'Check DATABASE_URL or the OCEANBASE_HOST/PORT/USER/PASSWORD/DATABASE settings.',
    },
  );
}

/** Run a first query so that connection problems surface as one clear error before any work starts. */
export async function checkConnection(knex: Knex, c: ConnectionConfig): Promise<void> {
  try {
    await knex.raw('SELECT 1');
  } catch (err) {
    throw (
      connectionError(err, c) ??
      new SparseVectorError(
        'CONNECTION_FAILED',
        redact(`Cannot use ${describeConnection(c)}: ${(err as Error).message}`),
      )
    );
  }
}
