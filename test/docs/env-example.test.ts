import fs from 'node:fs';
import path from 'node:path';
import { rangeText } from '../../src/options/help';
import { CONFIRM, MIGRATE_PARAMS, OPTIONS, SETTINGS, type OptionSpec } from '../../src/options/table';
import { ROOT } from '../support/cli';

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** `.env.example` documents every variable: each configuration variable named in the code appears there. */
test('.env.example names every configuration variable the code reads', () => {
  const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const documented = new Set(example.match(/\b[A-Z][A-Z0-9_]{3,}\b/g) ?? []);
  const read = new Set<string>();
  for (const file of [
    ...sourceFiles(path.join(ROOT, 'src')),
    path.join(ROOT, 'scripts', 'soak.ts'),
    path.join(ROOT, 'bench', 'run.ts'),
  ]) {
    const text = fs.readFileSync(file, 'utf8');
    // Read as env.NAME, or named in a string (the tables of variable names and their aliases).
    for (const m of text.matchAll(
      /(?:env\.|['"`])((?:SPARSE|OCEANBASE|DASHSCOPE|SVM)_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL|LOG_LEVEL)\b/g,
    ))
      read.add(m[1]);
  }
  // Not configuration: error codes, and the failpoint hooks of the fault tests.
  const errors = fs.readFileSync(path.join(ROOT, 'src', 'errors.ts'), 'utf8');
  for (const code of errors.match(/'[A-Z_]+'/g) ?? []) read.delete(code.slice(1, -1));
  read.delete('SPARSE_FAILPOINT');
  read.delete('SPARSE_FAILPOINT_RELEASE');
  expect(read.size).toBeGreaterThan(25);
  expect([...read].filter((name) => !documented.has(name)).sort()).toEqual([]);
});

/** What the docs write as an option's default. */
function defaultText(spec: OptionSpec): string {
  return spec.defaultText ?? (spec.default === undefined ? '' : String(spec.default));
}

describe('the docs agree with the option table (src/options/table.ts)', () => {
  const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const rows = readme.split('\n').filter((l) => l.startsWith('|'));

  test.each(OPTIONS.filter((o) => o.env).map((o) => [o.env!, o]))(
    '.env.example shows %s with its default',
    (env, spec) => {
      // A default that depends on something (workers: the embedder) is left unset and said in the comment.
      expect(example.split('\n')).toContain(`# ${env}=${spec.defaultText ? '' : defaultText(spec)}`);
      if (spec.defaultText) expect(example).toContain(spec.defaultText);
    },
  );

  test.each(
    OPTIONS.filter((o) => o.env && o.flag && o.flag !== SETTINGS.maxRequestsPerMinute.flag).map((o) => [o.flag!, o]),
  )("README's backfill table: %s with its variable, default and range", (flag, spec) => {
    const row = rows.find((r) => r.startsWith(`| \`${flag}`) && r.includes(`\`${spec.env}\``));
    expect(row).toBeDefined();
    const cells = row!.split(' | ');
    if (spec.default === undefined && !spec.defaultText) expect(['all', '—', 'off']).toContain(cells[2]);
    else expect(cells[2]).toBe(defaultText(spec));
    if (spec.range) expect(row).toContain(rangeText(spec.range));
  });

  // The Configuration section's tables (the powermem section before it names some variables too).
  const configurationRows = readme
    .slice(readme.indexOf('\n## Configuration\n'))
    .split('\n')
    .filter((l) => l.startsWith('|'));

  test.each(OPTIONS.filter((o) => o.env && !o.flag).map((o) => [o.env!, o]))(
    "README's configuration table: %s with its default",
    (env, spec) => {
      const row = configurationRows.find((r) => r.startsWith(`| \`${env}\``));
      expect(row?.split(' | ')[1]).toBe(`\`${defaultText(spec)}\``);
    },
  );

  test("README's CLI reference names every script parameter as its flag", () => {
    const run = rows.find((r) => r.startsWith('| `npx sparse-vector run'))!;
    for (const spec of [...MIGRATE_PARAMS, CONFIRM.yes]) expect(run).toContain(`\`${spec.flag}\``);
  });
});
