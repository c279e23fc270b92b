import { SvmError } from '../errors';

/** Small parsers shared by the configuration readers; each error names the variable and the fix. */
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function parseBoolean(value: string | boolean | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new SvmError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is not a boolean.`, {
    hint: `Use one of: true, false (also accepted: 1/0, yes/no, on/off).`,
  });
}

export function parseInteger(
  value: string | number | undefined,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new SvmError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is not an integer between ${range.min} and ${range.max}.`, {
      hint: `Set ${name} to a whole number in that range.`,
    });
  }
  return n;
}

export function parseNumber(
  value: string | number | undefined,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < range.min || n > range.max) {
    throw new SvmError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is not a number between ${range.min} and ${range.max}.`, {
      hint: `Set ${name} to a number in that range.`,
    });
  }
  return n;
}

export function parseChoice<T extends string>(value: string | undefined, name: string, choices: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  const v = value.trim().toLowerCase();
  if ((choices as readonly string[]).includes(v)) return v as T;
  throw new SvmError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is not one of: ${choices.join(', ')}.`, {
    hint: `Set ${name} to one of: ${choices.join(', ')}.`,
  });
}
