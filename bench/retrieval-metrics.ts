import { tokenize } from '../src/embedders/local/tokenize';
import type { RetrievalSet } from './retrieval-sets';

/** Classic BM25 constants (Lucene's defaults), fixed whatever the local embedder uses. */
const BM25_K1 = 1.2;
const BM25_B = 0.75;

export interface RetrievalScore {
  queries: number;
  top1: number;
  /** Mean reciprocal rank of the relevant document within the first 10 (0 when it is not among them). */
  mrr10: number;
}

/** top-1 and MRR@10 from the 1-based rank of each query's relevant document (undefined: not in the top 10). */
export function scoreRanks(ranks: ReadonlyArray<number | undefined>): RetrievalScore {
  let top1 = 0;
  let rr = 0;
  for (const r of ranks) {
    if (r === 1) top1++;
    if (r !== undefined && r <= 10) rr += 1 / r;
  }
  return { queries: ranks.length, top1, mrr10: ranks.length ? rr / ranks.length : 0 };
}

/** 1-based rank of `relevantId` in `ids` (best first), or undefined. */
export function rankOf(ids: readonly string[], relevantId: number): number | undefined {
  const i = ids.indexOf(String(relevantId));
  return i < 0 ? undefined : i + 1;
}

/** The rank of `relevantId` among the 10 best-scored ids with a positive score (as search would return them). */
export function rankOfScored(scored: ReadonlyArray<{ id: string; s: number }>, relevantId: number): number | undefined {
  const top = scored
    .filter((x) => x.s > 0)
    .sort((a, b) => b.s - a.s)
    .slice(0, 10);
  return rankOf(
    top.map((x) => x.id),
    relevantId,
  );
}

function termCounts(text: string): { tf: Map<string, number>; length: number } {
  const tf = new Map<string, number>();
  let length = 0;
  for (const { term, weight } of tokenize(text)) {
    tf.set(term, (tf.get(term) ?? 0) + weight);
    length += weight;
  }
  return { tf, length };
}

/**
 * The anchor: classic BM25 with IDF (Lucene's form, idf = ln(1 + (N − df + 0.5)/(df + 0.5)), k1 = 1.2,
 * b = 0.75, the corpus's real average length), in memory, over the same terms as the local embedder
 * (its tokenizer, unhashed). It is what the local embedder would score with full corpus statistics.
 * Ties are broken by document order.
 */
export function classicBm25(set: RetrievalSet): RetrievalScore {
  const docs = set.documents.map((d) => ({ id: String(d.id), ...termCounts(d.text) }));
  const df = new Map<string, number>();
  for (const d of docs) for (const t of d.tf.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const avg = docs.reduce((a, d) => a + d.length, 0) / Math.max(1, docs.length);
  const n = docs.length;
  const ranks = set.queries.map((q) => {
    const query = termCounts(q.query).tf;
    const scored = docs.map((d) => {
      let s = 0;
      const norm = BM25_K1 * (1 - BM25_B + (BM25_B * d.length) / avg);
      for (const [t, qtf] of query) {
        const f = d.tf.get(t);
        if (!f) continue;
        const dft = df.get(t)!;
        s += qtf * Math.log(1 + (n - dft + 0.5) / (dft + 0.5)) * ((f * (BM25_K1 + 1)) / (f + norm));
      }
      return { id: d.id, s };
    });
    return rankOfScored(scored, q.relevantId);
  });
  return scoreRanks(ranks);
}
