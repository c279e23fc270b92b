import fs from 'node:fs';
import path from 'node:path';

/**
 * No module of src/ imports itself through others (type-only imports included): a cycle means two modules
 * each need the other, and one of them owns something it should not. Found with Tarjan's strongly connected
 * components over the relative imports of every file.
 */
const ROOT = path.join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/g)) {
      const base = path.join(path.dirname(file), m[1].replace(/\.js$/, ''));
      const target = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
      if (target) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      component.push(path.relative(ROOT, w));
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('src/ has no import cycles', () => {
  const graph = importGraph(sourceFiles(path.join(ROOT, 'src')));
  expect(graph.size).toBeGreaterThan(50);
  expect(cycles(graph)).toEqual([]);
});

test('the cycle finder finds a cycle (a type-only import back from the registry to its user)', () => {
  const graph = importGraph(sourceFiles(path.join(ROOT, 'src')));
  const types = path.join(ROOT, 'src/embedders/types.ts');
  graph.set(types, [...graph.get(types)!, path.join(ROOT, 'src/embedders/providers.ts')]);
  expect(cycles(graph)).toEqual([
    expect.arrayContaining(['src/embedders/providers.ts', 'src/embedders/types.ts', 'src/embedders/local.ts']),
  ]);
});
