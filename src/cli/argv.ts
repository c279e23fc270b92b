import { booleanWord } from '../config/parse';

/** A command line split into flags (as typed, without the leading --) and positional words. */
export interface SplitArgs {
  positional: string[];
  flags: Record<string, string | boolean>;
}

/**
 * --key value, --key=value, --flag; everything else is positional (`--` ends the flags). A boolean flag
 * (`booleans`) takes the next argument only when it is a boolean word, so `search --json teapot` keeps
 * "teapot" as the query. Used to hand ts-command-line an argv it can parse: flags first, then the
 * positional words as its remainder (ts-command-line has no positionals of its own).
 */
export function splitArgs(args: string[], booleans: ReadonlySet<string>): SplitArgs {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-h') {
      flags.help = true;
      continue;
    }
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) {
      flags[a.slice(2, eq)] = a.slice(eq + 1);
      continue;
    }
    const name = a.slice(2);
    const next = args[i + 1];
    const takesValue =
      next !== undefined && !next.startsWith('--') && (!booleans.has(name) || booleanWord(next) !== undefined);
    flags[name] = takesValue ? args[++i] : true;
  }
  return { positional, flags };
}

/** `--batch_size` is `--batch-size`: ts-command-line's names are kebab-case; the guide writes snake_case. */
export const canonicalFlag = (typed: string): string => `--${typed.replace(/_/g, '-')}`;

/**
 * The argv ts-command-line parses for one action: each flag under its canonical name (a boolean flag given
 * as a word: present when true, left out when false), then `--` and the positional words (its remainder).
 * `isFlag` says whether a canonical name is a boolean flag of the action.
 */
export function toActionArgv(action: string, split: SplitArgs, isFlag: (canonical: string) => boolean): string[] {
  const out = [action];
  for (const [typed, value] of Object.entries(split.flags)) {
    const name = canonicalFlag(typed);
    if (typed === 'help') out.push('--help');
    else if (!isFlag(name)) {
      // --name=value keeps a value that starts with a dash a value; the parser wants an empty one on its own.
      const text = typeof value === 'string' ? value : '';
      out.push(...(text === '' ? [name, ''] : [`${name}=${text}`]));
    } else if (value === true || (typeof value === 'string' && booleanWord(value) === true)) out.push(name);
  }
  if (split.positional.length) out.push('--', ...split.positional);
  return out;
}
