import type { SparseVectorError } from '../errors';
import type { SparseVector } from '../sparse/sparse-vector';
import type { EmbedderProvider } from './provider-names';

export type { EmbedderProvider };

/** Documents are embedded for storage, queries for search; some models weight the two differently. */
export type EmbedMode = 'document' | 'query';

export interface EmbedOptions {
  /** Aborts the call (pending HTTP requests and retry waits); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** HTTP providers: told before each retry wait (what failed, how long the wait is). */
  onRetry?: (notice: RetryNotice) => void;
}

/** Told before each retry wait (for progress output); `error` is the failure being retried. */
export interface RetryNotice {
  /** The attempt that failed, from 1. */
  attempt: number;
  /** Attempts this failure allows in all. */
  attempts: number;
  waitMs: number;
  error: SparseVectorError;
}

/**
 * The embedding space an embedder writes into: its provider, its model, and every setting that changes
 * the vectors it computes (never a secret). Two embedders with equal fingerprints compute the same vector for
 * the same text, so their vectors can share a column and be searched with each other's queries. See
 * fingerprint.ts for each provider's and for the recorded (canonical) text.
 */
export interface EmbedderFingerprint {
  provider: string;
  model: string;
  /** Settings that change the vectors, by name (numbers and strings only). */
  params: Readonly<Record<string, string | number>>;
}

/** Embeds texts into sparse vectors. Every provider implements this and nothing else. */
export interface SparseEmbedder {
  /** Provider name: 'local' | 'qwen' | 'tei'. */
  readonly provider: string;
  /** Model name (for logs). */
  readonly model: string;
  /** Texts per provider request (qwen: 10, tei: SPARSE_EMBEDDER_BATCH_SIZE, local: 256). */
  readonly maxBatchSize: number;
  /** Largest index this embedder may produce (compare with the target's limit, e.g. 499,999 on OceanBase). */
  readonly maxIndex: number;
  /**
   * The embedding space it writes into: provider, model and every setting that changes the vectors (see
   * fingerprint.ts). The seeds ledger records it, and a backfill or search with another one is refused.
   * An embedder without one is identified by provider and model alone.
   */
  readonly fingerprint?: EmbedderFingerprint;
  /** Embed any number of texts (document mode), split into provider-sized requests; result[i] belongs to texts[i]. */
  embedDocuments(texts: readonly string[], options?: EmbedOptions): Promise<SparseVector[]>;
  /** Embed one search query (query mode). */
  embedQuery(text: string, options?: EmbedOptions): Promise<SparseVector>;
}

/**
 * The validated settings of an embedder (see config.ts for where each comes from). Ranges, defaults and
 * variables are the option table's: src/options/table-embedder.ts (README, "Configuration").
 */
export interface EmbedderConfig {
  provider: EmbedderProvider;
  /** qwen: required; tei: optional (sent as a Bearer token). Registered with redact(). */
  apiKey?: string;
  /** qwen: the DashScope model; tei: the name recorded for the vectors. */
  model?: string;
  /** qwen: output dimension parameter (default powermem's). */
  dims?: number;
  /** qwen: DashScope base (default powermem's, mainland China); tei: required server URL. */
  baseUrl?: string;
  /** HTTP providers: per-request timeout in milliseconds. */
  timeoutMs?: number;
  /** HTTP providers: retries after the first attempt on 429/5xx/network errors/timeouts. */
  maxRetries?: number;
  /** HTTP providers: base delay of the exponential backoff with full jitter, in milliseconds. */
  backoffBaseMs?: number;
  /** tei: texts per request. */
  batchSize?: number;
  /** local: number of hash buckets, indices are in [0, indexSpace) (default: the server's sparse index limit). */
  indexSpace?: number;
  /** HTTP providers: cap on requests started per minute (default: none; 429 answers adapt the pace anyway). */
  maxRequestsPerMinute?: number;
  /** local: worker threads for document batches; 'auto' = one per spare core, at most 4 (the default); 0 = none. */
  threads?: number | 'auto';
}

/** Handed to a provider's validate(): names settings the way the user wrote them, and reports problems. */
export interface ConfigCheck {
  /** Where a setting came from, e.g. SPARSE_EMBEDDER_DIMS, sparse_embedder.config.embedding_dims or dims. */
  nameOf(field: keyof EmbedderConfig): string;
  /** 'env' for environment variables, 'object' for a configuration object. */
  readonly source: 'env' | 'object';
  /** Throws SparseVectorError('EMBEDDER_CONFIG', message, { hint }). */
  fail(message: string, hint: string): never;
}

/**
 * One provider. A provider module exports one of these; src/embedders/providers.ts lists them.
 * That list is the only place that knows all providers (config validation, createEmbedder and the
 * accepted names all come from it).
 */
export interface EmbedderProviderDefinition<Name extends string = string> {
  readonly name: Name;
  /** One line for docs and messages. */
  readonly description: string;
  /** Provider-specific checks after the generic ones (numbers are integers in range, baseUrl is http(s)). */
  validate?(config: EmbedderConfig, check: ConfigCheck): void;
  create(config: EmbedderConfig): SparseEmbedder;
}
