import { SparseVectorError } from '../errors';

/** Small parsers shared by the configuration readers; each error names the variable and the fix. */
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** The boolean a word means (true/false, 1/0, yes/no, on/off, any case), or undefined for any other text. */
export function booleanWord(text: string): boolean | undefined {
  const v = text.trim().toLowerCase();
  return TRUE.has(v) ? true : FALSE.has(v) ? false : undefined;
}

/** A whole number written in decimal digits (optional sign and surrounding spaces), else NaN. */
export function integerText(text: string): number {
  return /^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : NaN;
}

/** A decimal number (no exponent, optional sign and surrounding spaces), else NaN. */
export function numberText(text: string): number {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(text) ? Number(text) : NaN;
}

export function parseBoolean(value: string | boolean | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  const b = booleanWord(value);
  if (b !== undefined) return b;
  throw new SparseVectorError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is not a boolean.`, {
    hint: `Use one of: true, false (also accepted: 1/0, yes/no, on/off).`,
  });
}

type Range = { min: number; max: number };

/** The two kinds of number a setting can take: what text they accept, and how the error names them. */
const KINDS = {
  integer: { read: integerText, valid: Number.isSafeInteger, noun: 'an integer', fix: 'a whole number' },
  number: { read: numberText, valid: Number.isFinite, noun: 'a number', fix: 'a number' },
} as const;

function parseBounded(
  kind: keyof typeof KINDS,
  value: string | number | undefined,
  name: string,
  fallback: number,
  range: Range,
): number {
  if (value === undefined || value === '') return fallback;
  const k = KINDS[kind];
  const n = typeof value === 'number' ? value : k.read(value);
  if (k.valid(n) && n >= range.min && n <= range.max) return n;
  throw new SparseVectorError(
    'CONFIG_INVALID',
    `${name}=${JSON.stringify(value)} is not ${k.noun} between ${range.min} and ${range.max}.`,
    { hint: `Set ${name} to ${k.fix} in that range.` },
  );
}

export function parseInteger(value: string | number | undefined, name: string, fallback: number, range: Range): number {
  return parseBounded('integer', value, name, fallback, range);
}

export function parseNumber(value: string | number | undefined, name: string, fallback: number, range: Range): number {
  return parseBounded('number', value, name, fallback, range);
}

export function parseChoice<T extends string>(
  value: string | undefined,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined || value === '') return fallback;
  const v = value.trim().toLowerCase();
  if ((choices as readonly string[]).includes(v)) return v as T;
  throw new SparseVectorError(
    'CONFIG_INVALID',
    `${name}=${JSON.stringify(value)} is not one of: ${choices.join(', ')}.`,
    {
      hint: `Set ${name} to one of: ${choices.join(', ')}.`,
    },
  );
}
