import type { SparseVector } from '../sparse/sparse-vector';

export type EmbedMode = 'document' | 'query';
export type EmbedderProvider = 'local' | 'qwen' | 'tei';

/** Embeds texts into sparse vectors. Every provider implements this and nothing else. */
export interface SparseEmbedder {
  /** 'local' | 'qwen' | 'tei' (for logs). */
  readonly provider: string;
  /** Model name (for logs). */
  readonly model: string;
  /** Texts per provider request. */
  readonly maxBatchSize: number;
  /** Largest index this embedder may produce. */
  readonly maxIndex: number;
  /** Embed any number of texts (document mode); result[i] belongs to texts[i]. */
  embedDocuments(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<SparseVector[]>;
  /** Embed a search query (query mode). */
  embedQuery(text: string, options?: { signal?: AbortSignal }): Promise<SparseVector>;
}

export interface EmbedderConfig {
  provider: EmbedderProvider;
  apiKey?: string;
  model?: string;
  dims?: number;
  baseUrl?: string;
  timeoutMs?: number;
  maxRetries?: number;
  /** local: size of the hashed index space. */
  indexSpace?: number;
  /** HTTP providers: base delay of the exponential backoff (ms). */
  backoffBaseMs?: number;
  /** tei: texts per request. */
  batchSize?: number;
}
