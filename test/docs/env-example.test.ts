import fs from 'node:fs';
import path from 'node:path';
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
