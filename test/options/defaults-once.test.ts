import fs from 'node:fs';
import path from 'node:path';
import { BACKFILL, SETTINGS, WORKERS, type OptionSpec } from '../../src/options/table';
import { ROOT } from '../support/cli';

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const TABLE = path.join(ROOT, 'src', 'options', 'table.ts');

/** The names an option goes by in the code: API name, variable, flag and script parameter. */
function spellings(spec: OptionSpec): string[] {
  return [spec.name, spec.env, spec.flag?.slice(2), spec.param].filter((s): s is string => !!s);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Places in `files` that state `spec`'s default: the literal as a value (after ??, :, =, a comma or the word
 * "default"; not `length > 1`) within a statement or object of one of the option's names, e.g.
 * `batchSize: 100`, `parseInteger(env.SPARSE_LOCK_TIMEOUT, 'SPARSE_LOCK_TIMEOUT', 120, ...)` or a parameter
 * list's `{ name: 'batch_size', type: 'int', default: 100 }` written over several lines.
 */
function statedIn(spec: OptionSpec, files: Record<string, string>, value = spec.default): string[] {
  const literal = `(?:\\?\\?|[:=,]|\\bdefault)\\s*${escape(String(value))}(?![\\w.])`;
  const name = `(?:${spellings(spec).map(escape).join('|')})`;
  const near = new RegExp(`\\b${name}\\b[^;{}]{0,80}?${literal}|${literal}[^;{}]{0,30}?\\b${name}\\b`, 'g');
  const hits: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    for (const m of text.matchAll(near)) {
      const line = text.slice(0, m.index).split('\n').length;
      hits.push(`${file}:${line}: ${m[0].replace(/\s+/g, ' ')}`);
    }
  }
  return hits;
}

/** Every file of src/ except the table. */
function sources(): Record<string, string> {
  const files = sourceFiles(path.join(ROOT, 'src')).filter((f) => f !== TABLE);
  return Object.fromEntries(files.map((f) => [path.relative(ROOT, f), fs.readFileSync(f, 'utf8')]));
}

describe('the option table is the only place a default appears', () => {
  const cases: Array<[OptionSpec, number]> = [
    [BACKFILL.batchSize, BACKFILL.batchSize.default],
    [BACKFILL.workers, WORKERS.local],
    [BACKFILL.workers, WORKERS.http],
    [BACKFILL.delaySeconds, BACKFILL.delaySeconds.default],
    [BACKFILL.dryRunLimit, BACKFILL.dryRunLimit.default],
    [BACKFILL.progressIntervalSeconds, BACKFILL.progressIntervalSeconds.default],
    [BACKFILL.embedAttempts, BACKFILL.embedAttempts.default],
    [SETTINGS.lockTimeoutSeconds, SETTINGS.lockTimeoutSeconds.default],
  ];
  test.each(cases.map(([spec, value]) => [spec.name, spec, value] as const))(
    '%s: its default %d is stated only in src/options/table.ts',
    (_name, spec, value) => {
      expect(statedIn(spec, sources(), value)).toEqual([]);
    },
  );

  test('the check finds a default stated outside the table (the definitions this table replaced)', () => {
    const before = {
      'scripts.ts': `parameters: [
    {
      name: 'batch_size',
      type: 'int',
      default: 100,
      required: false,`,
      'config.ts': `lockTimeoutSeconds: parseInteger(env.SPARSE_LOCK_TIMEOUT, 'SPARSE_LOCK_TIMEOUT', 120, { min: 0, max: 86400 }),`,
      'seeder.ts': `const create = () => createKnex(connection, { pool: (options.workers ?? 1) + 3 });`,
      'options.ts': `export const DEFAULTS = {\n  batchSize: 100,\n  workers: 1,\n  delaySeconds: 0.1,`,
      'format.ts': `if (p.workers.length > 1) {`,
    };
    expect(statedIn(BACKFILL.batchSize, before).map((h) => h.split(':').slice(0, 2).join(':'))).toEqual([
      'scripts.ts:3',
      'options.ts:2',
    ]);
    expect(statedIn(SETTINGS.lockTimeoutSeconds, before)).toHaveLength(1);
    expect(statedIn(BACKFILL.workers, before, WORKERS.local).map((h) => h.split(':')[0])).toEqual([
      'seeder.ts',
      'options.ts',
    ]);
    expect(statedIn(BACKFILL.delaySeconds, before)).toHaveLength(1);
  });
});
