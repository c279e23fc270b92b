import fs from 'node:fs';
import path from 'node:path';
import type { OptionSpec } from '../../src/options/table';
import { ROOT } from './cli';

/**
 * Finds an option's default stated outside the option table (test/options): the grep behind "the option
 * table is the only place a default appears".
 */

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The names an option goes by in the code: API name, variables, flag, script parameter, object keys. */
function spellings(spec: OptionSpec): string[] {
  return [spec.name, spec.env, ...(spec.aliases ?? []), spec.flag?.slice(2), spec.param, ...(spec.keys ?? [])].filter(
    (s): s is string => !!s,
  );
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Places in `files` that state `spec`'s default: the literal (a number also with digit separators, 30_000; a
 * string quoted) as a value
 * (after ??, ||, :, =, a comma or the word "default", or followed by "(the default"; not `length > 1`) within a
 * statement or object of one of the option's names, e.g. `batchSize: 100`,
 * `parseInteger(env.SPARSE_LOCK_TIMEOUT, 'SPARSE_LOCK_TIMEOUT', 120, ...)`, a parameter list's
 * `{ name: 'batch_size', type: 'int', default: 100 }` written over several lines, or
 * `timeoutMs: { min: 1, max: 3_600_000, hint: 'Use ..., e.g. 30000 (the default).' }`.
 */
export function statedIn(spec: OptionSpec, files: Record<string, string>, value = spec.default): string[] {
  // A number also with digit separators (30_000); a string quoted or in a text ('... default sparse_vector_seeds'),
  // also as a call's first argument (ledgerTableFor('sparse_vector_seeds', table)).
  const text = typeof value === 'string';
  const v = text ? `['"\`]?${escape(value)}['"\`]?` : escape(String(value)).replace(/(\d)(?=\d)/g, '$1_?');
  const before = `(?:\\?\\?|\\|\\||[:=,${text ? '(' : ''}]|\\bdefault)`;
  const literal = `(?:${before}\\s*${v}(?![\\w.])|(?<![\\w.])${v}\\s*\\((?:the )?default)`;
  const name = `(?:${spellings(spec).map(escape).join('|')})`;
  // After the name, an object of its own may open (`timeoutMs: { min: 1, ..., hint: '... 30000 (the default)' }`).
  const near = new RegExp(
    `\\b${name}\\b(?:\\s*:\\s*\\{)?[^;{}]{0,80}?${literal}|${literal}[^;{}]{0,30}?\\b${name}\\b`,
    'g',
  );
  const hits: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    for (const m of text.matchAll(near)) {
      const line = text.slice(0, m.index).split('\n').length;
      hits.push(`${file}:${line}: ${m[0].replace(/\s+/g, ' ')}`);
    }
  }
  return hits;
}

/** Every file of src/ except `exclude` (paths from the project root), by path from the root. */
export function sources(exclude: readonly string[]): Record<string, string> {
  const skip = new Set(exclude.map((f) => path.join(ROOT, f)));
  const files = sourceFiles(path.join(ROOT, 'src')).filter((f) => !skip.has(f));
  return Object.fromEntries(files.map((f) => [path.relative(ROOT, f), fs.readFileSync(f, 'utf8')]));
}
