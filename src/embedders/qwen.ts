import { SvmError } from '../errors';
import { createSparseVector, type SparseVector } from '../sparse/sparse-vector';
import { postJson, type HttpOptions, type HttpStats } from './http';
import type { EmbedderConfig, EmbedMode, SparseEmbedder } from './types';

export const DASHSCOPE_INTL = 'https://dashscope-intl.aliyuncs.com';
export const DASHSCOPE_MAINLAND = 'https://dashscope.aliyuncs.com';
const PATH = '/api/v1/services/embeddings/text-embedding/text-embedding';

/** DashScope's native endpoint URL for any accepted base (host, host/, host/api/v1). */
export function dashscopeEndpoint(base = DASHSCOPE_INTL): string {
  const b = base.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  return b + PATH;
}

interface DashScopeEmbedding {
  text_index?: unknown;
  sparse_embedding?: Array<{ index?: unknown; value?: unknown; token?: unknown }>;
}

/**
 * `qwen`: DashScope text-embedding-v4 sparse output. Only the native endpoint returns sparse vectors:
 * POST {base}/api/v1/services/embeddings/text-embedding/text-embedding with
 * {model, input: {texts}, parameters: {dimension, text_type, output_type: "sparse"}}; 10 texts per request.
 */
export class QwenSparseEmbedder implements SparseEmbedder {
  readonly provider = 'qwen';
  readonly model: string;
  readonly maxBatchSize = 10;
  readonly maxIndex = 0xffff_ffff;
  readonly stats: HttpStats & { tokens: number } = { requests: 0, retries: 0, tokens: 0 };
  private readonly url: string;
  private readonly dims: number;
  private readonly http: HttpOptions;

  constructor(private readonly config: EmbedderConfig) {
    if (!config.apiKey) throw new SvmError('EMBEDDER_CONFIG', 'The qwen sparse embedder needs an API key.', { hint: 'Set SPARSE_EMBEDDER_API_KEY or DASHSCOPE_API_KEY.' });
    this.model = config.model ?? 'text-embedding-v4';
    this.dims = config.dims ?? 1024;
    this.url = dashscopeEndpoint(config.baseUrl);
    this.http = {
      service: 'DashScope',
      timeoutMs: config.timeoutMs ?? 30_000,
      maxRetries: config.maxRetries ?? 5,
      backoffBaseMs: config.backoffBaseMs ?? 500,
      describeError: describeDashScopeError,
    };
  }

  async embedDocuments(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<SparseVector[]> {
    const out: SparseVector[] = [];
    for (let i = 0; i < texts.length; i += this.maxBatchSize) {
      out.push(...(await this.request(texts.slice(i, i + this.maxBatchSize), 'document', options.signal)));
    }
    return out;
  }

  async embedQuery(text: string, options: { signal?: AbortSignal } = {}): Promise<SparseVector> {
    return (await this.request([text], 'query', options.signal))[0];
  }

  private async request(texts: string[], mode: EmbedMode, signal?: AbortSignal): Promise<SparseVector[]> {
    const body = {
      model: this.model,
      input: { texts },
      parameters: { dimension: this.dims, text_type: mode, output_type: 'sparse' },
    };
    const json = (await postJson(this.url, { Authorization: `Bearer ${this.config.apiKey}` }, body, this.http, this.stats, signal)) as {
      output?: { embeddings?: DashScopeEmbedding[] };
      usage?: { total_tokens?: number };
    };
    const embeddings = json?.output?.embeddings;
    if (!Array.isArray(embeddings) || embeddings.length !== texts.length) {
      throw bad(`expected output.embeddings with ${texts.length} entries, got ${Array.isArray(embeddings) ? embeddings.length : typeof embeddings}`);
    }
    this.stats.tokens += Number(json.usage?.total_tokens ?? 0);
    const result = new Array<SparseVector | undefined>(texts.length);
    for (const e of embeddings) {
      const i = e.text_index;
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= texts.length || result[i]) throw bad(`an embedding has an invalid text_index ${String(i)}`);
      if (!Array.isArray(e.sparse_embedding)) throw bad(`embedding ${i} has no sparse_embedding list`);
      try {
        result[i] = createSparseVector(e.sparse_embedding.map((p) => [p.index as number, p.value as number] as const));
      } catch (err) {
        throw bad(`embedding ${i}: ${(err as Error).message}`);
      }
    }
    return result as SparseVector[];
  }
}

function bad(what: string): SvmError {
  return new SvmError('EMBEDDER_BAD_RESPONSE', `DashScope returned a malformed response: ${what}.`);
}

function describeDashScopeError(status: number, body: unknown): { code: 'EMBEDDER_AUTH' | 'EMBEDDER_RATE_LIMIT' | 'EMBEDDER_HTTP'; message: string; hint?: string } {
  const b = (body && typeof body === 'object' ? body : {}) as { code?: string; message?: string };
  const detail = [b.code, b.message].filter(Boolean).join(': ') || (typeof body === 'string' ? body : '');
  if (status === 401 || status === 403) {
    return {
      code: 'EMBEDDER_AUTH',
      message: `DashScope rejected the API key (HTTP ${status}${b.code ? ` ${b.code}` : ''}).`,
      hint: 'Check SPARSE_EMBEDDER_API_KEY / DASHSCOPE_API_KEY, and that the key belongs to the region of SPARSE_EMBEDDER_BASE_URL (international vs mainland).',
    };
  }
  if (status === 429) return { code: 'EMBEDDER_RATE_LIMIT', message: `DashScope is rate limiting requests (HTTP 429${detail ? `: ${detail}` : ''}).`, hint: 'Lower --workers or raise --delay.' };
  return { code: 'EMBEDDER_HTTP', message: `DashScope answered HTTP ${status}${detail ? `: ${detail}` : ''}.` };
}
