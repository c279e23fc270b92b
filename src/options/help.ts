import type { OptionSpec } from './table';

/** A range as help and docs write it: `1..10000`, or `>= 1` when it has no real upper end. */
export function rangeText(range: { min: number; max: number }): string {
  return range.max >= Number.MAX_SAFE_INTEGER ? `>= ${range.min}` : `${range.min}..${range.max}`;
}

/** The `-h` line of an option: its help, then its range, default and variable, from the table. */
export function optionHelp(spec: OptionSpec): string {
  const facts: string[] = [];
  if (spec.range) facts.push(rangeText(spec.range));
  if (spec.default !== undefined && spec.type !== 'bool') facts.push(`default ${String(spec.default)}`);
  if (spec.env) facts.push(`env ${spec.env}`);
  return facts.length ? `${spec.help} [${facts.join('; ')}]` : spec.help;
}
