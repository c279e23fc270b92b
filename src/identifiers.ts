import { SvmError } from './errors';

/**
 * SQL identifiers (database, table, column, index names) come from configuration, so they are
 * validated against a conservative pattern and then quoted with backticks. Values are never
 * interpolated: they are always bound parameters.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;

export function validateIdentifier(value: unknown, what: string, source?: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new SvmError('IDENTIFIER_INVALID', `Invalid ${what} ${shown}${source ? ` (from ${source})` : ''}: ` +
      'names may contain only letters, digits, "_" and "$", must not start with a digit, and are at most 64 characters.', {
      hint: `Use a plain name such as "memories"; quotes, backticks, spaces and semicolons are not accepted.`,
    });
  }
  return value;
}

/** Backtick-quote an identifier that has passed validateIdentifier. */
export function quoteIdentifier(name: string): string {
  validateIdentifier(name, 'identifier');
  return '`' + name + '`';
}
