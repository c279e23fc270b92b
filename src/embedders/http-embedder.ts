import type { SparseVector } from '../sparse/sparse-vector';
import { bearerHeader, httpOptions, inBatches, postJson, type HttpOptions, type HttpStats } from './http';
import type { EmbedderConfig, EmbedderFingerprint, EmbedMode, EmbedOptions, SparseEmbedder } from './types';

/** What an HTTP provider module (qwen.ts, tei.ts) builds on, from one place. */
export { malformedResponse, vectorFromPairs, type HttpStats } from './http';
export type { EmbedderFingerprint, EmbedderProviderDefinition, EmbedMode, EmbedOptions } from './types';

/** What an HTTP provider's constructor is given: an embedder configuration, the provider optional. */
export type HttpEmbedderConfig = Omit<EmbedderConfig, 'provider'> & { provider?: string };

/**
 * What the HTTP embedders (qwen, tei) share: the endpoint, the key as a Bearer header, the HTTP policy of
 * http.ts (timeout, retries, request limiter), the split of a document list into provider-sized requests
 * and a query as a one-text request. A provider says how to ask (its request body) and how to read the
 * answer, in request().
 */
export abstract class HttpSparseEmbedder implements SparseEmbedder {
  abstract readonly provider: string;
  abstract readonly model: string;
  abstract readonly maxBatchSize: number;
  abstract readonly fingerprint: EmbedderFingerprint;
  abstract readonly stats: HttpStats;
  /** Vocabulary ids: nothing smaller is documented, so every uint32 is accepted. */
  readonly maxIndex = 0xffff_ffff;
  /** An ES private field: util.inspect and JSON.stringify of the embedder do not show it (it holds the key). */
  readonly #headers: Record<string, string>;
  private readonly http: HttpOptions;

  protected constructor(
    readonly endpoint: string,
    config: HttpEmbedderConfig,
    service: string,
    describeError: HttpOptions['describeError'],
  ) {
    this.#headers = config.apiKey ? bearerHeader(config.apiKey) : {};
    this.http = httpOptions(config, service, describeError);
  }

  embedDocuments(texts: readonly string[], options: EmbedOptions = {}): Promise<SparseVector[]> {
    return inBatches(texts, this.maxBatchSize, (slice) => this.request(slice, 'document', options));
  }

  async embedQuery(text: string, options: EmbedOptions = {}): Promise<SparseVector> {
    return (await this.request([text], 'query', options))[0];
  }

  /** One request for `texts` (at most maxBatchSize): one vector per text, in order. */
  protected abstract request(texts: string[], mode: EmbedMode, options: EmbedOptions): Promise<SparseVector[]>;

  /** POST `body` to the endpoint with the key, under the HTTP policy; the parsed JSON answer. */
  protected post(body: unknown, options: EmbedOptions): Promise<unknown> {
    return postJson(this.endpoint, this.#headers, body, this.http, this.stats, options.signal, options.onRetry);
  }
}
