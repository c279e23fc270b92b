/** The command line of `npm run bench` (see bench/run.ts), read once. */
import path from 'node:path';
import type { TextMix } from '../testing/sample-memories';
import { autoThreads } from '../src/embedders/local/thread-pool';
import { stealMeter } from './machine-cpu';
import { serverCpuReader } from './server-cpu';

const argv = process.argv;
const valueOf = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i > 0 ? argv[i + 1] : undefined;
};
const wholeNumber = (name: string, fallback: number, min = 1): number => {
  const raw = valueOf(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} needs a whole number >= ${min} (got ${raw})`);
  return n;
};

export const ROOT = path.resolve(__dirname, '..', '..');
/** `--quick`: 100k rows only. */
export const quick = argv.includes('--quick');
/** `--rows N`: that size only (default 100k and 1M). */
export const sizes = valueOf('--rows') ? [wholeNumber('--rows', 0, 1000)] : quick ? [100_000] : [100_000, 1_000_000];
/** `--only forms,rate-limited`: just those parts (embedder, forms, sizes, remote, rate-limited); printed, not saved. */
export const only = valueOf('--only')?.split(',') ?? [];
export const wanted = (part: string): boolean => !only.length || only.includes(part);
/** `--mixes short`: only those text mixes (default: bench,short). */
export const MIXES = (valueOf('--mixes')?.split(',') ?? ['bench', 'short']) as TextMix[];
/** `--rate-workers default,16`: only those worker counts in the rate-limited part (default: default,1,2,4,8,16). */
export const RATE_WORKERS = valueOf('--rate-workers')
  ?.split(',')
  .map((w) => (w === 'default' ? undefined : Number(w))) ?? [undefined, 1, 2, 4, 8, 16];
/** `--rate-latency 50`: only that latency in the rate-limited part (default: 50 and 200 ms). */
export const RATE_LATENCIES = valueOf('--rate-latency')?.split(',').map(Number) ?? [50, 200];
/**
 * `--repeats N`: rounds of (ceiling, backfill, kill at 50% and re-run) per size and mix (default 3: the
 * figures are their median, and on this shared machine the ceiling alone moves by ±25% between rounds).
 */
export const REPEATS = wholeNumber('--repeats', 3);
/**
 * `--workers 4 --batch-size 4000 --batch-chars 200000`: the local backfill's settings (default: 4 workers,
 * batches of up to 4000 rows and 200,000 characters of text, ~1,140 rows of the bench mix and 4000 of the
 * short mix; `--batch-chars 0`: rows only; see docs/benchmarks.md, twelfth look).
 */
export const WORKERS = wholeNumber('--workers', 4);
export const BATCH = wholeNumber('--batch-size', 4000);
export const BATCH_CHARS = wholeNumber('--batch-chars', 200_000, 0);
/** The write forms' batch (bench/write-forms.ts): 1000 rows, as their figures since the fifth look. */
export const FORMS_BATCH = 1000;
/** Threads of the local embedder with the default setting ('auto') on this machine. */
export const AUTO_THREADS = autoThreads();
/** Also measured: the local embedder with this many worker threads (an opt-in on machines with < 4 cores). */
export const EXTRA_THREADS = AUTO_THREADS > 0 ? 0 : 2;
/** CPU seconds of the private database server so far (undefined: not measurable, see server-cpu.ts). */
export const serverCpu = serverCpuReader(ROOT);
/** The machine's CPU share stolen by other guests over a part (undefined: not measurable, see machine-cpu.ts). */
export const steal = stealMeter();
