import { booleanWord, parseBoolean, parseChoice, parseInteger, parseNumber } from '../config/parse';
import { SparseVectorError } from '../errors';
import { flagValueError, integerFlag, numberFlag } from './flag-value';
import type { OptionSpec } from './table';

/** A slice of the table: rows whose id falls in shard `index` of `count` (see backfill/reader.ts). */
export interface Shard {
  index: number;
  count: number;
}

/** Whether `shard` splits the table (a shard of count 1, or none, is the whole table). */
export function splitsTable(shard: Shard | undefined): shard is Shard {
  return !!shard && shard.count > 1;
}

export type OptionValue = number | string | boolean | Shard;

/**
 * Where a value came from, for its error: a command-line flag as the user typed it (usage error, exit 2:
 * `--batch-size "0" is not a whole number from 1 to 10000.`), an environment variable or an API key
 * (CONFIG_INVALID: `SPARSE_BACKFILL_WORKERS="lots" is not an integer between 1 and 64.`). Each error has a
 * second line with the fix.
 */
export interface ValueSource {
  kind: 'flag' | 'env' | 'api';
  /** The flag as typed (--batch_size), the variable, or the API name. */
  name: string;
}

export const MAX_SHARDS = 1024;
const ANY = { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };
const SHARD_WORDS = `a shard "i/n" with 0 <= i < n <= ${MAX_SHARDS}`;
const SHARD = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/** The example an error's second line gives: the default, else the table's example, else the range's start. */
export function exampleOf(spec: OptionSpec): string {
  return String(spec.default ?? spec.example ?? spec.range?.min ?? 'VALUE');
}

/** `i/n` with 0 <= i < n <= 1024, or undefined. */
function shardText(text: string): Shard | undefined {
  const m = SHARD.exec(text);
  if (!m) return undefined;
  const [index, count] = [Number(m[1]), Number(m[2])];
  return count >= 1 && count <= MAX_SHARDS && index < count ? { index, count } : undefined;
}

/** `--shard i/n` (or SPARSE_BACKFILL_SHARD): undefined when empty; CONFIG_INVALID naming `name` when malformed. */
export function parseShard(text: string | undefined, name = '--shard'): Shard | undefined {
  if (text === undefined || text === '') return undefined;
  const shard = shardText(text);
  if (!shard) {
    throw new SparseVectorError('CONFIG_INVALID', `${name} ${JSON.stringify(text)} is not ${SHARD_WORDS}.`, {
      hint: 'Run n processes with --shard 0/n, --shard 1/n, ... --shard (n-1)/n; together they cover the table once.',
    });
  }
  return shard;
}

const rangeWords = (range: { min: number; max: number }) =>
  range.max >= Number.MAX_SAFE_INTEGER ? `of ${range.min} or more` : `from ${range.min} to ${range.max}`;

/** What an option takes, in words: `a whole number from 1 to 10000`, `true or false`... */
export function expectedWords(spec: OptionSpec): string {
  switch (spec.type) {
    case 'bool':
      return 'true or false';
    case 'int':
      return spec.range ? `a whole number ${rangeWords(spec.range)}` : 'a whole number';
    case 'float':
      return spec.range ? `a number ${rangeWords(spec.range)}` : 'a number';
    case 'shard':
      return SHARD_WORDS;
    case 'choice':
      return `one of ${spec.choices!.join(', ')}`;
    default:
      return 'a non-empty value';
  }
}

/** A flag's value (a string as typed, or true for a bare boolean flag): usage errors naming the flag. */
function fromFlag(spec: OptionSpec, value: string | boolean, flag: string): OptionValue {
  const example = exampleOf(spec);
  const text = typeof value === 'boolean' ? '' : value;
  switch (spec.type) {
    case 'bool': {
      const b = typeof value === 'boolean' ? value : booleanWord(value);
      if (b === undefined) throw flagValueError(flag, value, expectedWords(spec), 'true');
      return b;
    }
    case 'int':
      return integerFlag(flag, text, spec.range ?? ANY, Number(example));
    case 'float':
      return numberFlag(flag, text, spec.range ?? ANY, Number(example));
    case 'shard': {
      const shard = shardText(text);
      if (!shard) throw flagValueError(flag, text, expectedWords(spec), example);
      return shard;
    }
    case 'choice': {
      const v = text.trim().toLowerCase();
      if (!spec.choices!.includes(v)) throw flagValueError(flag, text, expectedWords(spec), example);
      return v;
    }
    default:
      if (text.trim() === '') throw flagValueError(flag, text, expectedWords(spec), example);
      return text;
  }
}

/** An environment variable's or an API key's value: CONFIG_INVALID errors naming it. */
function fromSetting(spec: OptionSpec, value: unknown, name: string): OptionValue {
  const fallback = 0; // never used: empty values are "unset" before this is called
  switch (spec.type) {
    case 'bool':
      return parseBoolean(value as string | boolean, name, false);
    case 'int':
      return parseInteger(value as string | number, name, fallback, spec.range ?? ANY);
    case 'float':
      return parseNumber(value as string | number, name, fallback, spec.range ?? ANY);
    case 'choice':
      return parseChoice(value as string, name, spec.choices!, String(spec.default));
    case 'shard':
      if (typeof value === 'string') return parseShard(value, name)!;
      return checkShardObject(value, name);
    default:
      return String(value);
  }
}

function checkShardObject(value: unknown, name: string): Shard {
  const s = value as Partial<Shard>;
  const ok =
    Number.isInteger(s?.index) &&
    Number.isInteger(s?.count) &&
    s.index! >= 0 &&
    s.index! < s.count! &&
    s.count! <= MAX_SHARDS;
  if (!ok) {
    throw new SparseVectorError(
      'CONFIG_INVALID',
      `${name} ${JSON.stringify(value)} is not a shard {index, count} with 0 <= index < count <= ${MAX_SHARDS}.`,
      { hint: 'Pass e.g. { index: 0, count: 3 } to the first of three processes.' },
    );
  }
  return { index: s.index!, count: s.count! };
}

/**
 * The one validator of the table's options: `value` read as `spec`'s type and range. Unset is undefined:
 * for a flag, not given (an empty flag value is an error); for a variable or an API key, undefined or ''.
 */
export function readOption(spec: OptionSpec, value: unknown, from: ValueSource): OptionValue | undefined {
  if (value === undefined) return undefined;
  if (from.kind === 'flag') return fromFlag(spec, value as string | boolean, from.name);
  if (value === '' || value === null) return undefined;
  return fromSetting(spec, value, from.name);
}

/** Read several options of the table; unset ones are left out. */
export function readOptions(
  specs: readonly OptionSpec[],
  valueOf: (spec: OptionSpec) => unknown,
  sourceOf: (spec: OptionSpec) => ValueSource,
): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const spec of specs) {
    const v = readOption(spec, valueOf(spec), sourceOf(spec));
    if (v !== undefined) out[spec.name] = v;
  }
  return out;
}

/** The options of `specs` that have a variable, read from `env` (CONFIG_INVALID errors name the variable). */
export function readEnvOptions(
  specs: readonly OptionSpec[],
  env: Record<string, string | undefined>,
): Record<string, OptionValue> {
  const withEnv = specs.filter((s) => s.env);
  return readOptions(
    withEnv,
    (s) => env[s.env!],
    (s) => ({ kind: 'env', name: s.env! }),
  );
}

/** The default of a numeric option, for code that needs a number when the option is unset. */
export function defaultNumber(spec: OptionSpec): number {
  if (typeof spec.default !== 'number') throw new Error(`Option ${spec.name} has no numeric default.`);
  return spec.default;
}
