import { SvmError } from '../errors';
import { createSparseVector, type SparseVector } from '../sparse/sparse-vector';
import { postJson, type HttpOptions, type HttpStats } from './http';
import type { EmbedderConfig, SparseEmbedder } from './types';

/**
 * `tei`: Hugging Face text-embeddings-inference, POST {base}/embed_sparse with {"inputs": [...], "truncate": true};
 * the answer is one list of {index, value} per input (SPLADE-style models). TEI has no query/document modes.
 */
export class TeiSparseEmbedder implements SparseEmbedder {
  readonly provider = 'tei';
  readonly model: string;
  readonly maxBatchSize: number;
  readonly maxIndex = 0xffff_ffff;
  readonly stats: HttpStats = { requests: 0, retries: 0 };
  private readonly url: string;
  private readonly http: HttpOptions;

  constructor(private readonly config: EmbedderConfig) {
    if (!config.baseUrl) throw new SvmError('EMBEDDER_CONFIG', 'The tei sparse embedder needs SPARSE_EMBEDDER_BASE_URL.', { hint: 'e.g. http://127.0.0.1:8080' });
    this.url = config.baseUrl.replace(/\/+$/, '') + '/embed_sparse';
    this.model = config.model ?? 'tei';
    this.maxBatchSize = config.batchSize ?? 32;
    this.http = {
      service: 'text-embeddings-inference',
      timeoutMs: config.timeoutMs ?? 30_000,
      maxRetries: config.maxRetries ?? 5,
      backoffBaseMs: config.backoffBaseMs ?? 500,
      describeError: (status, body) => {
        const b = (body && typeof body === 'object' ? body : {}) as { error?: string; error_type?: string };
        const detail = [b.error_type, b.error].filter(Boolean).join(': ') || (typeof body === 'string' ? body : '');
        if (status === 401 || status === 403) return { code: 'EMBEDDER_AUTH', message: `text-embeddings-inference rejected the credentials (HTTP ${status}).`, hint: 'Check SPARSE_EMBEDDER_API_KEY.' };
        if (status === 429) return { code: 'EMBEDDER_RATE_LIMIT', message: `text-embeddings-inference is overloaded (HTTP 429${detail ? `: ${detail}` : ''}).` };
        return { code: 'EMBEDDER_HTTP', message: `text-embeddings-inference answered HTTP ${status}${detail ? `: ${detail}` : ''}.` };
      },
    };
  }

  async embedDocuments(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<SparseVector[]> {
    const out: SparseVector[] = [];
    for (let i = 0; i < texts.length; i += this.maxBatchSize) out.push(...(await this.request(texts.slice(i, i + this.maxBatchSize), options.signal)));
    return out;
  }

  async embedQuery(text: string, options: { signal?: AbortSignal } = {}): Promise<SparseVector> {
    return (await this.request([text], options.signal))[0];
  }

  private async request(texts: string[], signal?: AbortSignal): Promise<SparseVector[]> {
    const headers: Record<string, string> = this.config.apiKey ? { Authorization: `Bearer ${this.config.apiKey}` } : {};
    const json = await postJson(this.url, headers, { inputs: texts, truncate: true }, this.http, this.stats, signal);
    if (!Array.isArray(json) || json.length !== texts.length) {
      throw new SvmError('EMBEDDER_BAD_RESPONSE', `text-embeddings-inference returned a malformed response: expected a list of ${texts.length} sparse vectors.`);
    }
    return json.map((pairs, i) => {
      if (!Array.isArray(pairs)) throw new SvmError('EMBEDDER_BAD_RESPONSE', `text-embeddings-inference returned a malformed response: vector ${i} is not a list.`);
      try {
        return createSparseVector(pairs.map((p: { index?: unknown; value?: unknown }) => [p?.index as number, p?.value as number] as const));
      } catch (err) {
        throw new SvmError('EMBEDDER_BAD_RESPONSE', `text-embeddings-inference returned a malformed response: vector ${i}: ${(err as Error).message}`);
      }
    });
  }
}
