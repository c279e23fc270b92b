import { SvmError } from '../errors';

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

function invalid(message: string): SvmError {
  return new SvmError('SPARSE_VECTOR_INVALID', message);
}

function checkIndex(index: unknown, maxIndex: number, where: string): number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
    throw invalid(`Sparse vector index ${String(index)} at ${where} is not a non-negative integer.`);
  }
  if (index > MAX_UINT32) throw invalid(`Sparse vector index ${index} at ${where} is above 4294967295 (indices are unsigned 32-bit).`);
  if (index > maxIndex) {
    throw invalid(
      `Sparse vector index ${index} at ${where} is above the limit ${maxIndex}` +
        (maxIndex < SPARSE_INDEX_LIMIT + 1 ? ` (OceanBase/seekdb's sparse index rejects keys above ${SPARSE_INDEX_LIMIT.toLocaleString('en-US')}).` : '.'),
    );
  }
  return index;
}

function checkWeight(weight: unknown, where: string): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight)) {
    throw invalid(`Sparse vector weight ${String(weight)} at ${where} is not a finite number.`);
  }
  // Values that round to the largest float32 (e.g. its shortest text 3.4028235e38) are fine; beyond that, float32 overflows.
  if (!Number.isFinite(Math.fround(weight))) throw invalid(`Sparse vector weight ${weight} at ${where} does not fit in a float32.`);
  return weight;
}

function entriesOf(input: Iterable<readonly [number, number]> | Record<string, number> | ReadonlyMap<number, number>): Array<readonly [unknown, unknown]> {
  if (input instanceof Map) return [...input.entries()];
  if (typeof (input as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(input as Iterable<readonly [number, number]>)];
  return Object.entries(input as Record<string, number>).map(([k, v]) => [/^\d+$/.test(k) ? Number(k) : k, v] as const);
}

/** Build and validate a sparse vector; entries may come in any order, duplicate indices are an error. */
export function createSparseVector(
  input: Iterable<readonly [number, number]> | Record<string, number> | ReadonlyMap<number, number>,
  options: SparseVectorOptions = {},
): SparseVector {
  const maxIndex = options.maxIndex ?? MAX_UINT32;
  const entries = entriesOf(input).map(([i, w], n) => {
    const where = `entry ${n}`;
    return [checkIndex(i, maxIndex, where), checkWeight(w, where)] as const;
  });
  entries.sort((a, b) => a[0] - b[0]);
  const indices = new Uint32Array(entries.length);
  const values = new Float32Array(entries.length);
  for (let k = 0; k < entries.length; k++) {
    if (k > 0 && entries[k][0] === entries[k - 1][0]) throw invalid(`Sparse vector index ${entries[k][0]} appears more than once.`);
    indices[k] = entries[k][0];
    values[k] = entries[k][1];
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
 * The shortest decimal text that reads back as exactly the same float32. -0 is written as 0
 * (the sign of a zero weight carries no meaning in an inner product).
 */
export function formatFloat32(x: number): string {
  const f = Math.fround(x);
  if (f === 0) return '0';
  // Short values (0.5, 2, 0.25) are their own shortest text; others need 6 to 9 significant digits.
  const plain = String(f);
  if (plain.length <= 8) return plain;
  for (let p = 6; p <= 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return String(s);
  }
  return String(f);
}

/** OceanBase's sparse vector text literal: `{1:0.5,20:0.25}`, keys ascending, no spaces; `{}` when empty. */
export function toOceanBaseLiteral(v: SparseVector): string {
  const parts = new Array<string>(v.indices.length);
  for (let k = 0; k < v.indices.length; k++) parts[k] = `${v.indices[k]}:${formatFloat32(v.values[k])}`;
  return `{${parts.join(',')}}`;
}

const LITERAL_ENTRY = /^\s*"?(\d+)"?\s*:\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$/;

/** Parse `{1:0.5, 20:0.3}` (what the server returns) or the relaxed `{"1":0.5}` form it also accepts. */
export function parseOceanBaseLiteral(text: string, options: SparseVectorOptions = {}): SparseVector {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) throw invalid(`Not a sparse vector literal: ${JSON.stringify(t.slice(0, 40))} (expected {index:weight,...}).`);
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
  const parts = new Array<string>(v.indices.length);
  for (let k = 0; k < v.indices.length; k++) parts[k] = `[${v.indices[k]},${formatFloat32(v.values[k])}]`;
  return `[${parts.join(',')}]`;
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
    if (!Array.isArray(pair) || pair.length !== 2) throw invalid(`Portable sparse vector entry ${n} is not an [index, weight] pair.`);
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
