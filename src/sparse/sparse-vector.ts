import { SparseVectorError } from '../errors';
import { AsciiWriter } from './ascii-writer';

/**
 * A sparse vector: index -> weight. Indices are unsigned 32-bit integers in strictly ascending order,
 * weights finite float32 numbers. This is the value OceanBase/seekdb store in a SPARSEVECTOR column
 * (uint32 keys, float32 values) and the portable mode stores as JSON.
 */
export interface SparseVector {
  readonly indices: Uint32Array;
  readonly values: Float32Array;
}

/** OceanBase/seekdb's in-memory sparse index (SINDI) rejects keys above 500,000: our index space is [0, 500000). */
export const SPARSE_INDEX_LIMIT = 500_000;
export const MAX_UINT32 = 0xffff_ffff;

export interface SparseVectorOptions {
  /** Largest accepted index, inclusive (default 2^32 - 1). */
  maxIndex?: number;
}

function invalid(message: string): SparseVectorError {
  return new SparseVectorError('SPARSE_VECTOR_INVALID', message);
}

/** How an offending value appears in a message: strings quoted, everything else as JavaScript prints it. */
function show(x: unknown): string {
  return typeof x === 'string' ? JSON.stringify(x) : String(x);
}

function checkIndex(index: unknown, maxIndex: number, where: string): number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
    throw invalid(`Sparse vector index ${show(index)} at ${where} is not a non-negative integer.`);
  }
  if (index > MAX_UINT32)
    throw invalid(`Sparse vector index ${index} at ${where} is above 4294967295 (indices are unsigned 32-bit).`);
  if (index > maxIndex) {
    throw invalid(
      `Sparse vector index ${index} at ${where} is above the limit ${maxIndex}` +
        (maxIndex <= SPARSE_INDEX_LIMIT
          ? ` (OceanBase/seekdb's sparse index rejects keys above ${SPARSE_INDEX_LIMIT.toLocaleString('en-US')}).`
          : '.'),
    );
  }
  return index;
}

function checkWeight(weight: unknown, where: string): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight)) {
    throw invalid(`Sparse vector weight ${show(weight)} at ${where} is not a finite number.`);
  }
  // Values that round to the largest float32 (e.g. its shortest text 3.4028235e38) are fine; beyond that, float32 overflows.
  if (!Number.isFinite(Math.fround(weight)))
    throw invalid(`Sparse vector weight ${weight} at ${where} does not fit in a float32.`);
  return weight;
}

export type SparseVectorInput =
  Iterable<readonly [number, number]> | Record<string, number> | ReadonlyMap<number, number>;

function entriesOf(input: SparseVectorInput): Array<readonly [unknown, unknown]> {
  if (input === null || typeof input !== 'object')
    throw invalid(`A sparse vector is built from [index, weight] pairs, a Map or an object; got ${show(input)}.`);
  if (input instanceof Map) return [...input.entries()];
  if (typeof (input as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return Array.from(input as Iterable<unknown>, (pair, n) => {
      if (!Array.isArray(pair) || pair.length !== 2)
        throw invalid(`Sparse vector entry ${n} is not an [index, weight] pair.`);
      return [pair[0], pair[1]] as const;
    });
  }
  return Object.entries(input as Record<string, unknown>).map(
    ([k, v]) => [/^\d+$/.test(k) ? Number(k) : k, v] as const,
  );
}

/**
 * Build and validate a sparse vector. Entries may come in any order; they are sorted by index.
 * Errors (SPARSE_VECTOR_INVALID) name the offending entry: a weight that is NaN, infinite or beyond the
 * float32 range, an index that is not an integer in [0, 2^32 - 1] or above `maxIndex`, a duplicate index.
 * Weights are stored as float32; -0 becomes 0, zero weights are kept.
 */
export function createSparseVector(input: SparseVectorInput, options: SparseVectorOptions = {}): SparseVector {
  const maxIndex = options.maxIndex ?? MAX_UINT32;
  const entries = entriesOf(input).map(([i, w], n) => {
    const where = `entry ${n}`;
    return [checkIndex(i, maxIndex, where), checkWeight(w, where)] as const;
  });
  entries.sort((a, b) => a[0] - b[0]);
  const indices = new Uint32Array(entries.length);
  const values = new Float32Array(entries.length);
  for (let k = 0; k < entries.length; k++) {
    if (k > 0 && entries[k][0] === entries[k - 1][0])
      throw invalid(`Sparse vector index ${entries[k][0]} appears more than once.`);
    indices[k] = entries[k][0];
    values[k] = entries[k][1] + 0; // -0 + 0 === +0
  }
  return { indices, values };
}

/** Check an existing vector against an index limit (e.g. a dialect's maxIndex). */
export function checkIndexLimit(v: SparseVector, maxIndex: number): SparseVector {
  const last = v.indices.length ? v.indices[v.indices.length - 1] : -1;
  if (last > maxIndex) checkIndex(last, maxIndex, `position ${v.indices.length - 1}`);
  return v;
}

/**
 * The shortest decimal text (fewest significant digits, at most 9) that reads back as exactly the same
 * float32: parseFloat(text) rounded to float32 is the input's float32. -0 is written as 0 (the sign of a
 * zero weight means nothing in an inner product). Whether p digits suffice is monotone in p (a p-digit
 * decimal is also a (p+1)-digit one), so a binary search over 1..9 finds the fewest.
 */
export function formatFloat32(x: number): string {
  bitsView[0] = x;
  return formatted.get(bitsOf[0]) ?? formatUncached(x);
}

const FORMAT_CACHE_LIMIT = 65_536;
// Embedders repeat a small set of weights (the local one: 4 significant digits), so most calls are hits. The
// key is the float32's bit pattern (written to bitsView, read from bitsOf): an integer, cheaper to hash than a
// double.
const formatted = new Map<number, string>();
const bitsView = new Float32Array(1);
const bitsOf = new Uint32Array(bitsView.buffer);

/**
 * formatFloat32 of a vector's k-th weight. The weight goes from the vector's Float32Array to its bit pattern
 * (an integer, a small one for weights under 2) through bitsView without becoming a JavaScript number: passed
 * to a function as a number, each weight was a 16-byte heap allocation, half of what encoding a vector
 * allocated (V8's sampling heap profiler).
 */
function formatWeight(values: Float32Array, k: number): string {
  bitsView[0] = values[k];
  return formatted.get(bitsOf[0]) ?? formatUncached(values[k]);
}

/** A weight not in the cache: its text, cached (see formatFloat32). */
function formatUncached(x: number): string {
  const f = Math.fround(x);
  if (f === 0) return '0';
  if (!Number.isFinite(f)) throw invalid(`Sparse vector weight ${x} is not a finite float32.`);
  const text = shortestFloat32(f);
  if (formatted.size >= FORMAT_CACHE_LIMIT) formatted.clear();
  bitsView[0] = f;
  formatted.set(bitsOf[0], text);
  return text;
}

function shortestFloat32(f: number): string {
  let lo = 1;
  let hi = 9;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Math.fround(Number(f.toPrecision(mid))) === f) hi = mid;
    else lo = mid + 1;
  }
  return String(Number(f.toPrecision(lo)));
}

/** OceanBase's sparse vector text literal: `{1:0.5,20:0.25}`, keys ascending, no spaces; `{}` when empty. */
export function toOceanBaseLiteral(v: SparseVector): string {
  const w = startText(v);
  w.char(LBRACE);
  for (let k = 0; k < v.indices.length; k++) {
    if (k) w.char(COMMA);
    w.uint(v.indices[k]);
    w.char(COLON);
    w.text(formatWeight(v.values, k));
  }
  w.char(RBRACE);
  return w.done();
}

const [LBRACE, RBRACE, LBRACKET, RBRACKET, COMMA, COLON] = ['{', '}', '[', ']', ',', ':'].map((c) => c.charCodeAt(0));
/** Bytes an entry takes at most: separators (4), an index (10 digits), a weight (formatFloat32: <= 15). */
const MAX_ENTRY_BYTES = 32;
const writer = new AsciiWriter();

function startText(v: SparseVector): AsciiWriter {
  writer.start(2 + MAX_ENTRY_BYTES * v.indices.length);
  return writer;
}

const LITERAL_ENTRY = /^\s*"?(\d+)"?\s*:\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$/;

/** Parse `{1:0.5, 20:0.3}` (what the server returns) or the relaxed `{"1":0.5}` form it also accepts. */
export function parseOceanBaseLiteral(text: string, options: SparseVectorOptions = {}): SparseVector {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}'))
    throw invalid(`Not a sparse vector literal: ${JSON.stringify(t.slice(0, 40))} (expected {index:weight,...}).`);
  const body = t.slice(1, -1).trim();
  if (!body) return createSparseVector([], options);
  const entries = body.split(',').map((part, n) => {
    const m = LITERAL_ENTRY.exec(part);
    if (!m) throw invalid(`Sparse vector literal entry ${n} ${JSON.stringify(part.trim())} is not index:weight.`);
    return [Number(m[1]), Number(m[2])] as const;
  });
  return createSparseVector(entries, options);
}

/** Portable (JSON column) form: `[[index, weight], ...]`, index ascending. */
export function toPortableJson(v: SparseVector): string {
  const w = startText(v);
  w.char(LBRACKET);
  for (let k = 0; k < v.indices.length; k++) {
    if (k) w.char(COMMA);
    w.char(LBRACKET);
    w.uint(v.indices[k]);
    w.char(COMMA);
    w.text(formatWeight(v.values, k));
    w.char(RBRACKET);
  }
  w.char(RBRACKET);
  return w.done();
}

/** Read the portable form, as a JSON string or already parsed by the driver. */
export function parsePortableJson(value: unknown, options: SparseVectorOptions = {}): SparseVector {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw invalid(`Not a portable sparse vector: ${JSON.stringify(value.slice(0, 40))} is not JSON.`);
    }
  }
  if (!Array.isArray(parsed)) throw invalid('A portable sparse vector is a JSON array of [index, weight] pairs.');
  const entries = parsed.map((pair, n) => {
    if (!Array.isArray(pair) || pair.length !== 2)
      throw invalid(`Portable sparse vector entry ${n} is not an [index, weight] pair.`);
    return [pair[0], pair[1]] as const;
  });
  return createSparseVector(entries as Array<readonly [number, number]>, options);
}

/** Inner product by a merge walk over the two sorted index lists. */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const x = a.indices[i];
    const y = b.indices[j];
    if (x === y) sum += a.values[i++] * b.values[j++];
    else if (x < y) i++;
    else j++;
  }
  return sum;
}

/** Whether two vectors hold the same indices and float32 weights. */
export function sparseEquals(a: SparseVector, b: SparseVector): boolean {
  if (a.indices.length !== b.indices.length) return false;
  for (let k = 0; k < a.indices.length; k++) {
    if (a.indices[k] !== b.indices[k] || a.values[k] !== b.values[k]) return false;
  }
  return true;
}
