import { createHash } from 'node:crypto';
import { SparseVectorError } from './errors';
import { GUIDE_TABLE } from './options/table-connection';

/**
 * SQL identifiers (database, table, column, index names) come from configuration, so they are
 * validated against a conservative pattern and then quoted with backticks. Values are never
 * interpolated: they are always bound parameters.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;

export function validateIdentifier(value: unknown, what: string, source?: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new SparseVectorError(
      'IDENTIFIER_INVALID',
      `Invalid ${what} ${shown}${source ? ` (from ${source})` : ''}: ` +
        'names may contain only letters, digits, "_" and "$", must not start with a digit, and are at most 64 characters.',
      {
        hint: `Use a plain name such as "memories"; quotes, backticks, spaces and semicolons are not accepted.`,
      },
    );
  }
  return value;
}

/**
 * Database names follow the server's rules for quoted names (MySQL/OceanBase/MariaDB): 1 to 64 characters,
 * no NUL, no character outside the Basic Multilingual Plane, no trailing space. `my-app` is legal. They
 * are always quoted (quoteDatabaseName) when they appear in SQL.
 */
export function validateDatabaseName(value: unknown, source?: string): string {
  const problem =
    typeof value !== 'string' || value === ''
      ? 'it is empty'
      : [...value].length > 64
        ? 'it is longer than 64 characters'
        : value.includes('\0')
          ? 'it contains a NUL character'
          : /[\u{10000}-\u{10FFFF}]/u.test(value)
            ? 'it contains a character outside the Basic Multilingual Plane (e.g. an emoji)'
            : / $/.test(value)
              ? 'it ends with a space'
              : undefined;
  if (problem) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new SparseVectorError(
      'IDENTIFIER_INVALID',
      `Invalid database name ${shown}${source ? ` (from ${source})` : ''}: ${problem}.`,
      {
        hint: 'Use the name of an existing database: 1 to 64 characters, not ending with a space (e.g. "memories" or "my-app").',
      },
    );
  }
  return value as string;
}

/** Backtick-quote a database name that passes validateDatabaseName (backticks inside are doubled). */
export function quoteDatabaseName(name: string): string {
  validateDatabaseName(name);
  return '`' + name.replace(/`/g, '``') + '`';
}

/**
 * The name of a table kept for one memories table (its ledgers, its term statistics): `base` for the guide's
 * table `memories`, else `base_<table>`, or `base_` and a hash of the table name when that would not leave
 * room for knex's `_lock` table within MySQL's 64 characters.
 */
export function perTableName(base: string, table: string): string {
  if (table === GUIDE_TABLE) return base;
  const name = `${base}_${table}`;
  return name.length <= 59 ? name : `${base}_${createHash('sha256').update(table).digest('hex').slice(0, 16)}`;
}

/** Backtick-quote an identifier that has passed validateIdentifier. */
export function quoteIdentifier(name: string): string {
  validateIdentifier(name, 'identifier');
  return '`' + name + '`';
}
