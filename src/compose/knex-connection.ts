import type { Knex } from 'knex';
import type { ConnectionConfig } from '../config/connection-config';
import { registerSecret } from '../util/redact';
import { CONNECTION, MYSQL_PORT } from '../options/table-connection';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const parseKnexConnectionString = require('knex/lib/knex-builder/internal/parse-connection') as (url: string) => {
  connection: unknown;
};

/**
 * The database an application's knex instance talks to, as our ConnectionConfig: composed routes (the app's
 * own knex or Umzug) take our advisory lock and open the backfill's pool on that same database.
 * Undefined when knex was given something we cannot read (a function, a socket path without a database).
 */
export function connectionOfKnex(knex: Knex): ConnectionConfig | undefined {
  // The configuration as the application wrote it: the driver may strip the password from knex's working copy
  // (client.connectionSettings) once connected.
  const client = knex.client as { connectionSettings?: unknown; config?: { connection?: unknown } };
  let settings = client.config?.connection ?? client.connectionSettings;
  // A connection string, parsed by knex's own parser (query parameters become driver options, as in knex).
  if (typeof settings === 'string') settings = parseKnexConnectionString(settings).connection;
  if (!settings || typeof settings !== 'object') return undefined;
  const s = settings as Record<string, unknown>;
  if (typeof s.database !== 'string' || !s.database) return undefined;
  if (typeof s.password === 'string') registerSecret(s.password);
  return {
    host: typeof s.host === 'string' && s.host ? s.host : '127.0.0.1',
    port: s.port === undefined ? MYSQL_PORT : Number(s.port),
    user: typeof s.user === 'string' && s.user ? s.user : CONNECTION.user.default,
    password: typeof s.password === 'string' ? s.password : '',
    database: s.database,
    ...(s.ssl && typeof s.ssl === 'object' ? { ssl: s.ssl } : {}),
  };
}

/** A knex instance (or transaction): a function with `client` and `raw`. */
export function isKnex(value: unknown): value is Knex {
  return (
    typeof value === 'function' &&
    typeof (value as Partial<Knex>).raw === 'function' &&
    !!(value as Partial<Knex>).client
  );
}
