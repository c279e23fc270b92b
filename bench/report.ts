/** The bench's table of figures and its results object, and how they are written out. */
import fs from 'node:fs';
import path from 'node:path';

export interface Row {
  measure: string;
  value: string;
  target?: string;
  met?: boolean;
}
export const rows: Row[] = [];
export const results: Record<string, unknown> = {};
export const say = (s: string): void => void process.stdout.write(s + '\n');

export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e9];
}

/** median, min and max of a list of figures, as "m (min–max)". */
export function spread(xs: number[], digits = 2): { median: number; text: string } {
  const sorted = [...xs].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const f = (x: number) => x.toFixed(digits);
  return { median, text: xs.length > 1 ? `${f(median)} (${f(sorted[0])}–${f(sorted[sorted.length - 1])})` : f(median) };
}

export function table(): string {
  const lines = ['| measure | value | target | met |', '|---|---|---|---|'];
  for (const r of rows)
    lines.push(
      `| ${r.measure} | ${r.value} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} |`,
    );
  return lines.join('\n');
}

/** bench/results.json, and the figures section of docs/benchmarks.md (between its markers). */
export function writeReport(root: string, meta: Record<string, unknown> & { date: string }, heading: string): void {
  const out = { ...meta, results, table: rows };
  fs.writeFileSync(path.join(root, 'bench', 'results.json'), JSON.stringify(out, null, 2) + '\n');
  const doc = path.join(root, 'docs', 'benchmarks.md');
  const section = `<!-- figures:start -->\n${heading}\n\n${table()}\n<!-- figures:end -->`;
  const text = fs.existsSync(doc)
    ? fs.readFileSync(doc, 'utf8')
    : '# Benchmarks\n\n<!-- figures:start -->\n<!-- figures:end -->\n';
  fs.writeFileSync(doc, text.replace(/<!-- figures:start -->[\s\S]*<!-- figures:end -->/, section));
}
