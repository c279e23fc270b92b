/** Up to this many distinct terms, sort() sorts by insertion (see there). */
const INSERTION_SORT_MAX = 64;

/**
 * Term frequencies of one text by sparse index: an open-addressing hash table in typed arrays, reused from
 * text to text (cleared by a generation stamp), so counting a term allocates nothing. Not re-entrant: one
 * table per thread, used by one embed() at a time (embed is synchronous).
 */
export class TermCounts {
  private keys = new Uint32Array(1024);
  private weights = new Float64Array(1024);
  private stamps = new Uint32Array(1024);
  private used = new Uint32Array(512);
  private generation = 1;
  private count = 0;

  /** Start a new text. */
  reset(): void {
    this.count = 0;
    if (++this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  add(index: number, weight: number): void {
    if (this.count * 2 >= this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let slot = (Math.imul(index, 0x9e3779b1) >>> 0) & mask;
    for (;;) {
      if (this.stamps[slot] !== this.generation) {
        this.stamps[slot] = this.generation;
        this.keys[slot] = index;
        this.weights[slot] = weight;
        this.used[this.count++] = slot;
        return;
      }
      if (this.keys[slot] === index) {
        this.weights[slot] += weight;
        return;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Filled by sort(): the distinct indices ascending and their summed weights, valid in [0, count). */
  sortedIndices = new Uint32Array(64);
  sortedWeights = new Float64Array(64);

  /**
   * Sort the distinct indices, with their summed weights, into sortedIndices and sortedWeights (this table's
   * own arrays, valid until the next sort: read them first); returns how many there are. A text's few dozen
   * terms are sorted by insertion, in pairs; a runtime sort (and a weight lookup per index) cost more than the
   * sorting itself on them (~5% of the backfill process's CPU, short texts).
   */
  sort(): number {
    const n = this.count;
    if (this.sortedIndices.length < n) {
      const size = Math.max(n, this.sortedIndices.length * 2);
      this.sortedIndices = new Uint32Array(size);
      this.sortedWeights = new Float64Array(size);
    }
    const indices = this.sortedIndices;
    const weights = this.sortedWeights;
    if (n > INSERTION_SORT_MAX) {
      for (let k = 0; k < n; k++) indices[k] = this.keys[this.used[k]];
      indices.subarray(0, n).sort();
      for (let k = 0; k < n; k++) weights[k] = this.weightOf(indices[k]);
      return n;
    }
    for (let k = 0; k < n; k++) {
      const slot = this.used[k];
      const index = this.keys[slot];
      const weight = this.weights[slot];
      let j = k;
      for (; j > 0 && indices[j - 1] > index; j--) {
        indices[j] = indices[j - 1];
        weights[j] = weights[j - 1];
      }
      indices[j] = index;
      weights[j] = weight;
    }
    return n;
  }

  private weightOf(index: number): number {
    const mask = this.keys.length - 1;
    let slot = (Math.imul(index, 0x9e3779b1) >>> 0) & mask;
    while (this.keys[slot] !== index || this.stamps[slot] !== this.generation) slot = (slot + 1) & mask;
    return this.weights[slot];
  }

  private grow(): void {
    const old = { keys: this.keys, weights: this.weights, used: this.used.subarray(0, this.count) };
    const size = this.keys.length * 2;
    this.keys = new Uint32Array(size);
    this.weights = new Float64Array(size);
    this.stamps = new Uint32Array(size);
    this.used = new Uint32Array(size / 2);
    const n = this.count;
    this.count = 0;
    this.generation = 1;
    for (let k = 0; k < n; k++) this.add(old.keys[old.used[k]], old.weights[old.used[k]]);
  }
}
