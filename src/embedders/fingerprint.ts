import type { EmbedderFingerprint, SparseEmbedder } from './types';

export type { EmbedderFingerprint };

/*
 * The embedding space of an embedder (EmbedderFingerprint, in types.ts), as each provider declares it:
 * - local: model `bm25-fnv1a-v2` (tokeniser, weights and hash version) and its index space;
 * - qwen: model and `dimension` (the base URL is not part of it: every DashScope region serves the same model);
 * - tei: the configured model name, or, when none is configured, the server's URL (the model it serves).
 * Settings that change only how vectors are fetched (timeouts, retries, batch sizes, threads, request
 * limits) or only the query side (the local embedder's term statistics for IDF) are not part of it.
 */

/** The embedder's own fingerprint, or, for an embedder that declares none, its provider and model. */
export function fingerprintOf(embedder: SparseEmbedder): EmbedderFingerprint {
  return embedder.fingerprint ?? { provider: embedder.provider, model: embedder.model, params: {} };
}

/** The stable text recorded in the seeds ledger: JSON with sorted keys. */
export function canonicalFingerprint(fp: EmbedderFingerprint): string {
  const params = Object.fromEntries(Object.entries(fp.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ model: fp.model, params, provider: fp.provider });
}

/** A recorded fingerprint read back (undefined when the text is not one). */
export function parseFingerprint(text: string | null | undefined): EmbedderFingerprint | undefined {
  if (!text) return undefined;
  try {
    const o = JSON.parse(text) as Partial<EmbedderFingerprint>;
    if (typeof o.provider !== 'string' || typeof o.model !== 'string') return undefined;
    return { provider: o.provider, model: o.model, params: o.params && typeof o.params === 'object' ? o.params : {} };
  } catch {
    return undefined;
  }
}

const PARAM_WORDS: Record<string, string> = { indexSpace: 'index space', dimension: 'dimension', url: 'at' };

/**
 * For people: "local bm25-fnv1a-v2 (index space 500000)", "qwen text-embedding-v4 (dimension 1536)",
 * "tei (at http://127.0.0.1:8080/embed_sparse)". Accepts a fingerprint or its recorded text.
 */
export function describeFingerprint(fp: EmbedderFingerprint | string): string {
  const f = typeof fp === 'string' ? parseFingerprint(fp) : fp;
  if (!f) return typeof fp === 'string' ? fp : '(unknown embedder)';
  const params = Object.entries(f.params)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${PARAM_WORDS[k] ?? k} ${v}`);
  const model = f.model && f.model !== f.provider ? ` ${f.model}` : '';
  return `${f.provider}${model}${params.length ? ` (${params.join(', ')})` : ''}`;
}
