import { SparseVectorError } from '../errors';

/** Server error codes that mean "this user may not do that". */
const DENIED = new Set([
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
]);

/** "UPDATE command denied to user 'ro'@'127.0.0.1' for table `db`.`memories`" (MariaDB) or "... for table 'memories'" (MySQL, OceanBase). */
const TABLE_DENIED =
  /^(\w+) command denied to user '([^']*)'@'([^']*)' for (?:column '[^']*' in )?table [`']?(?:([^`'.]+)[`']?\.[`']?)?([^`']+)[`']?/i;

const NEEDS =
  'The upgrade needs ALTER and INDEX on the table, the backfill UPDATE, the ledgers and the term statistics CREATE, INSERT, UPDATE and DELETE.';

/** Which step of the tool needs `privilege` on `table`, in words. */
function stepFor(privilege: string, table: string): string {
  const ledger = /(^|_)(migrations|seeds)(_|$)/i.test(table);
  if (/(^|_)term_stats(_|$)/i.test(table) && privilege !== 'SELECT')
    return `to keep its term statistics table '${table}' (query-side IDF)`;
  if (privilege === 'CREATE' || (ledger && privilege !== 'SELECT')) return `to keep its ledger table '${table}'`;
  if (privilege === 'ALTER' || privilege === 'INDEX')
    return 'for the upgrade (adding the sparse_embedding column and its index)';
  if (privilege === 'DROP') return 'for the downgrade (dropping the sparse_embedding column and its index)';
  if (privilege === 'UPDATE') return 'for the backfill (writing sparse_embedding)';
  if (privilege === 'SELECT') return `to read table '${table}'`;
  return `on table '${table}'`;
}

/**
 * A server's "command denied" error as an SparseVectorError PERMISSION_DENIED that says which privilege is missing for
 * which step, and how to grant it, instead of the statement and the server's text; undefined for other errors.
 */
export function privilegeError(err: unknown): SparseVectorError | undefined {
  const e = err as { code?: unknown; sqlMessage?: string; message?: string } | undefined;
  if (!e || !DENIED.has(String(e.code))) return undefined;
  const text = String(e.sqlMessage ?? e.message ?? '');
  const m = TABLE_DENIED.exec(text);
  if (!m) {
    return new SparseVectorError('PERMISSION_DENIED', `The database user may not do this: ${text}`, {
      hint: `Grant the missing privilege, or run this step as a user that has it. ${NEEDS}`,
      cause: err,
    });
  }
  const [, command, user, host, database, table] = m;
  const privilege = command.toUpperCase();
  const on = database ? `\`${database}\`.\`${table}\`` : `\`${table}\``;
  return new SparseVectorError(
    'PERMISSION_DENIED',
    `The database user '${user}' lacks the ${privilege} privilege on table '${table}', needed ${stepFor(privilege, table)}.`,
    {
      hint: `Grant it (GRANT ${privilege} ON ${on} TO '${user}'@'${host}';) or run this step as a user that has it. ${NEEDS}`,
      cause: err,
    },
  );
}
