import type { SparseVector } from '../../sparse/sparse-vector';

/** Vectors packed into one pair of arrays: text i's entries are [offsets[i], offsets[i + 1]). */
export interface PackedVectors {
  offsets: Uint32Array<ArrayBuffer>;
  indices: Uint32Array<ArrayBuffer>;
  values: Float32Array<ArrayBuffer>;
}

/** Each text's vector as a view of its part of the packed arrays (they stay alive while a vector does). */
export function unpackVectors({ offsets, indices, values }: PackedVectors): SparseVector[] {
  const out = new Array<SparseVector>(offsets.length - 1);
  for (let i = 0; i < out.length; i++)
    out[i] = {
      indices: indices.subarray(offsets[i], offsets[i + 1]),
      values: values.subarray(offsets[i], offsets[i + 1]),
    };
  return out;
}

/**
 * Collects the vectors of a run of texts into reused arrays, then packs them into arrays of their exact size:
 * two typed arrays per run (a worker thread's request, or YIELD_EVERY texts in process) instead of two per text
 * (each with its own off-heap memory, allocated, swept and freed one by one). The in-process embedder unpacks
 * them into views; the worker threads transfer them.
 */
export class VectorPack {
  private indices = new Uint32Array(4096);
  private values = new Float32Array(4096);
  private used = 0;
  private ends: number[] = [];

  reset(): void {
    this.used = 0;
    this.ends = [];
  }

  /** The next text's vector: the first `n` entries of `indices` and `values`. */
  append(indices: Uint32Array, values: Float32Array, n: number): void {
    if (this.used + n > this.indices.length) this.grow(this.used + n);
    const at = this.used;
    for (let k = 0; k < n; k++) {
      this.indices[at + k] = indices[k];
      this.values[at + k] = values[k];
    }
    this.used += n;
    this.ends.push(this.used);
  }

  /** The vectors appended since reset(), in arrays of their exact size. */
  packed(): PackedVectors {
    const offsets = new Uint32Array(this.ends.length + 1);
    offsets.set(this.ends, 1);
    const indices = new Uint32Array(this.indices.subarray(0, this.used)); // copies: the pack's arrays are reused
    const values = new Float32Array(this.values.subarray(0, this.used));
    return { offsets, indices, values };
  }

  private grow(needed: number): void {
    const size = Math.max(needed, this.indices.length * 2);
    const indices = new Uint32Array(size);
    const values = new Float32Array(size);
    indices.set(this.indices.subarray(0, this.used));
    values.set(this.values.subarray(0, this.used));
    this.indices = indices;
    this.values = values;
  }
}
