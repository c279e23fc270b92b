import type { SparseVector } from '../../sparse/sparse-vector';

/**
 * The vectors of one embedDocuments call packed into one pair of arrays, each text's vector a view of its
 * part, as the worker threads already send them (thread-worker.ts): two typed arrays per call instead of two
 * per text (each with its own off-heap memory, allocated, swept and freed one by one). A vector keeps its
 * call's arrays alive, no more.
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

  /** The vectors appended since reset(), as views of two arrays of their exact size. */
  vectors(): SparseVector[] {
    const indices = this.indices.slice(0, this.used);
    const values = this.values.slice(0, this.used);
    let start = 0;
    return this.ends.map((end) => {
      const v = { indices: indices.subarray(start, end), values: values.subarray(start, end) };
      start = end;
      return v;
    });
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
