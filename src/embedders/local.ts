import type { SparseVector } from '../sparse/sparse-vector';
import { termIndex } from './local/hash';
import { tokenize, type Term } from './local/tokenize';
import type { EmbedderConfig, SparseEmbedder } from './types';

/** BM25 constants; AVERAGE_LENGTH stands in for the corpus average (there is no corpus state). */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;
export const AVERAGE_LENGTH = 24;
export const DEFAULT_INDEX_SPACE = 500_000;

/**
 * `local`: the default sparse embedder. In-process, no key, no network, deterministic.
 * Document weight of a term = BM25 term saturation tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen));
 * rounded to 4 significant digits; query weight = the term's (summed) weight, so the inner product of a query and a document is a BM25-like
 * score without IDF. Terms are hashed into [0, indexSpace) (see local/hash.ts); colliding terms add up.
 */
export class LocalSparseEmbedder implements SparseEmbedder {
  readonly provider = 'local';
  readonly model = 'bm25-fnv1a';
  readonly maxBatchSize = 256;
  readonly maxIndex: number;
  private readonly indexSpace: number;

  constructor(config: Pick<EmbedderConfig, 'indexSpace'> = {}) {
    this.indexSpace = config.indexSpace ?? DEFAULT_INDEX_SPACE;
    this.maxIndex = this.indexSpace - 1;
  }

  async embedDocuments(texts: readonly string[]): Promise<SparseVector[]> {
    return texts.map((t) => this.embed(t, 'document'));
  }

  async embedQuery(text: string): Promise<SparseVector> {
    return this.embed(text, 'query');
  }

  /** Synchronous core, also used by the benchmark. */
  embed(text: string, mode: 'document' | 'query'): SparseVector {
    const terms: Term[] = tokenize(text);
    const tf = new Map<number, number>();
    let length = 0;
    for (const { term, weight } of terms) {
      const i = termIndex(term, this.indexSpace);
      tf.set(i, (tf.get(i) ?? 0) + weight);
      length += weight;
    }
    const norm = BM25_K1 * (1 - BM25_B + (BM25_B * length) / AVERAGE_LENGTH);
    const indices = Uint32Array.from(tf.keys()).sort();
    const values = new Float32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const f = tf.get(indices[k])!;
      values[k] = mode === 'query' ? f : quantize((f * (BM25_K1 + 1)) / (f + norm));
    }
    // Indices are distinct hash buckets in [0, indexSpace) and weights finite: valid by construction.
    return { indices, values };
  }
}

/** Document weights keep 4 significant digits: enough for ranking, and short to store. */
export function quantize(w: number): number {
  return Number(w.toPrecision(4));
}
