import { integerText, numberText } from '../config/parse';
import { SparseVectorError } from '../errors';

/**
 * Command-line values: every error names the flag and the value as the user typed them, says what is
 * expected, and gives an example (the second line). Both CLIs use these, so the same bad value gets the
 * same message and the same exit code (2, usage) everywhere.
 */
export function flagValueError(flag: string, value: unknown, expected: string, example: string): SparseVectorError {
  return new SparseVectorError('USAGE', `${flag} ${JSON.stringify(value)} is not ${expected}.`, {
    hint: `Pass ${expected}, e.g. ${flag} ${example}.`,
  });
}

const rangeWords = (range: { min: number; max: number }) =>
  range.max >= Number.MAX_SAFE_INTEGER ? `of ${range.min} or more` : `from ${range.min} to ${range.max}`;

/** A whole number in `range`; anything else (an empty value too) is a usage error naming `flag`. */
export function integerFlag(
  flag: string,
  value: string | number,
  range: { min: number; max: number },
  example: number,
): number {
  const n = typeof value === 'number' ? value : integerText(value);
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max)
    throw flagValueError(flag, value, `a whole number ${rangeWords(range)}`, String(example));
  return n;
}

/** A decimal number in `range`; anything else (an empty value too) is a usage error naming `flag`. */
export function numberFlag(
  flag: string,
  value: string | number,
  range: { min: number; max: number },
  example: number,
): number {
  const n = typeof value === 'number' ? value : numberText(value);
  if (!Number.isFinite(n) || n < range.min || n > range.max)
    throw flagValueError(flag, value, `a number ${rangeWords(range)}`, String(example));
  return n;
}
