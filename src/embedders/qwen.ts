import { SparseVectorError } from '../errors';
import { EMBEDDER } from '../options/table';
import type { SparseVector } from '../sparse/sparse-vector';
import {
  HttpSparseEmbedder,
  malformedResponse,
  vectorFromPairs,
  type EmbedderProviderDefinition,
  type EmbedMode,
  type EmbedOptions,
  type EmbedderFingerprint,
  type HttpEmbedderConfig,
  type HttpStats,
} from './http-embedder';

/**
 * powermem's qwen sparse embedder defaults (powermem 1.1.x, src/powermem/integrations/embeddings/qwen_sparse.py):
 * base URL https://dashscope.aliyuncs.com/api/v1 (mainland; DASHSCOPE_BASE_URL overrides it), model
 * text-embedding-v4, dimension 1536. Ours are the same, so a backfill writes the vectors powermem computes;
 * they are the option table's (src/options/table-embedder.ts). 10 texts per request is the model's limit.
 */
export const POWERMEM_QWEN_BASE_URL = EMBEDDER.baseUrl.providerDefaults.qwen;
export const QWEN_DEFAULTS = {
  model: EMBEDDER.model.providerDefaults.qwen,
  dims: EMBEDDER.dims.default,
  batchSize: 10,
} as const;
export const DASHSCOPE_INTL = 'https://dashscope-intl.aliyuncs.com';
export const DASHSCOPE_MAINLAND = new URL(POWERMEM_QWEN_BASE_URL).origin;
export const DASHSCOPE_EMBEDDING_PATH = '/api/v1/services/embeddings/text-embedding/text-embedding';
/**
 * The `dimension` values each DashScope model accepts (Model Studio, "text embedding synchronous API").
 * A model not listed here is passed through unchecked.
 */
export const QWEN_MODEL_DIMENSIONS: Readonly<Record<string, readonly number[]>> = {
  'text-embedding-v4': [2048, 1536, 1024, 768, 512, 256, 128, 64],
  'text-embedding-v3': [1024, 768, 512, 256, 128, 64],
};

/**
 * DashScope's native embedding endpoint for any accepted base: a host (with or without trailing
 * slash), a host ending in /api/v1 (the DashScope SDK's form), the full endpoint URL, or the host's
 * OpenAI-compatible base (/compatible-mode/v1, which has no sparse output: its host is used).
 */
export function dashscopeEndpoint(base: string = POWERMEM_QWEN_BASE_URL): string {
  const b = base.trim().replace(/\/+$/, '');
  if (b.endsWith(DASHSCOPE_EMBEDDING_PATH)) return b;
  return b.replace(/\/(?:api|compatible-mode)\/v1$/, '') + DASHSCOPE_EMBEDDING_PATH;
}

/** What Python's str.strip() removes (str.isspace()); JavaScript's trim() differs (it keeps U+001C..U+001F and U+0085, removes U+FEFF). */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/**
 * The text powermem sends for a memory: `text.replace("\n", " ").strip()` (qwen_sparse.py, embed_sparse).
 * Only line feeds become spaces (a CR of a CRLF stays, then strip() removes it at the ends only).
 */
export function cleanTextLikePowermem(text: string): string {
  return text.replace(/\n/g, ' ').replace(PY_STRIP, '');
}

interface DashScopeAnswer {
  output?: { embeddings?: unknown };
  usage?: { total_tokens?: unknown };
}

export interface QwenStats extends HttpStats {
  /** usage.total_tokens summed over the answers. */
  tokens: number;
}

/**
 * `qwen`: DashScope text-embedding-v4 sparse output, native endpoint only (the OpenAI-compatible one has
 * no sparse output). POST {base}/api/v1/services/embeddings/text-embedding/text-embedding with
 * `{ model, input: { texts }, parameters: { dimension, text_type, output_type: "sparse" } }`, at most 10
 * texts per request; the answer's output.embeddings[i] = { text_index, sparse_embedding: [{ index, value, token }] }.
 */
export class QwenSparseEmbedder extends HttpSparseEmbedder {
  readonly provider = 'qwen';
  readonly model: string;
  readonly maxBatchSize: number = QWEN_DEFAULTS.batchSize;
  readonly stats: QwenStats = { requests: 0, retries: 0, tokens: 0 };
  readonly dims: number;
  /** Model and dimension; not the base URL (every DashScope region serves the same model), never the key. */
  readonly fingerprint: EmbedderFingerprint;

  constructor(config: HttpEmbedderConfig) {
    if (!config.apiKey) {
      throw new SparseVectorError('EMBEDDER_CONFIG', 'The qwen sparse embedder needs an API key.', {
        hint: 'Set SPARSE_EMBEDDER_API_KEY or DASHSCOPE_API_KEY.',
      });
    }
    super(dashscopeEndpoint(config.baseUrl), config, 'DashScope', describeDashScopeError);
    this.model = config.model ?? QWEN_DEFAULTS.model;
    this.dims = config.dims ?? QWEN_DEFAULTS.dims;
    this.fingerprint = { provider: 'qwen', model: this.model, params: { dimension: this.dims } };
  }

  protected async request(texts: string[], mode: EmbedMode, options: EmbedOptions): Promise<SparseVector[]> {
    const body = requestBody(this.model, this.dims, texts, mode);
    const json = (await this.post(body, options)) as DashScopeAnswer;
    const embeddings = json?.output?.embeddings;
    if (!Array.isArray(embeddings) || embeddings.length !== texts.length) {
      throw bad(
        `expected output.embeddings with ${texts.length} entries, got ${Array.isArray(embeddings) ? embeddings.length : typeof embeddings}`,
      );
    }
    const tokens = Number(json.usage?.total_tokens);
    if (Number.isFinite(tokens)) this.stats.tokens += tokens;
    // Answers are matched to texts by text_index, never by position.
    const result = new Array<SparseVector | undefined>(texts.length);
    for (const e of embeddings as Array<{ text_index?: unknown; sparse_embedding?: unknown } | null>) {
      const i = e?.text_index;
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= texts.length)
        throw bad(`an embedding has a missing or invalid text_index ${JSON.stringify(i) ?? 'undefined'}`);
      if (result[i]) throw bad(`text_index ${i} appears more than once`);
      result[i] = vectorFromPairs(e!.sparse_embedding, `embedding ${i}`, bad);
    }
    return result as SparseVector[];
  }
}

/**
 * The request body for `texts`: what powermem's embed_sparse sends through the DashScope SDK for each
 * text (TextEmbedding.call puts a text in input.texts and text_type/dimension/output_type in parameters),
 * with up to 10 texts per request instead of one.
 */
export function requestBody(model: string, dims: number, texts: readonly string[], mode: EmbedMode) {
  return {
    model,
    input: { texts: texts.map(cleanTextLikePowermem) },
    parameters: { output_type: 'sparse', dimension: dims, text_type: mode },
  };
}

const bad = (what: string): SparseVectorError => malformedResponse('DashScope', what);

function describeDashScopeError(
  status: number,
  body: unknown,
): { code: 'EMBEDDER_AUTH' | 'EMBEDDER_RATE_LIMIT' | 'EMBEDDER_HTTP'; message: string; hint?: string } {
  const b = (body && typeof body === 'object' ? body : {}) as { code?: unknown; message?: unknown };
  const code = typeof b.code === 'string' ? b.code : undefined;
  const detail =
    [code, typeof b.message === 'string' ? b.message : undefined].filter(Boolean).join(': ') ||
    (typeof body === 'string' ? body.trim() : '');
  if (status === 401 || status === 403) {
    return {
      code: 'EMBEDDER_AUTH',
      message: `DashScope rejected the API key (HTTP ${status}${code ? ` ${code}` : ''}).`,
      hint: 'Check SPARSE_EMBEDDER_API_KEY / DASHSCOPE_API_KEY, and that the key belongs to the region of SPARSE_EMBEDDER_BASE_URL (international: https://dashscope-intl.aliyuncs.com, mainland China: https://dashscope.aliyuncs.com).',
    };
  }
  if (status === 429) {
    return {
      code: 'EMBEDDER_RATE_LIMIT',
      message: `DashScope is rate limiting requests (HTTP 429${detail ? `: ${detail}` : ''}).`,
      hint: 'Lower --workers, raise --delay, or ask for a higher quota.',
    };
  }
  return { code: 'EMBEDDER_HTTP', message: `DashScope answered HTTP ${status}${detail ? `: ${detail}` : ''}.` };
}

export const qwenProvider: EmbedderProviderDefinition<'qwen'> = {
  name: 'qwen',
  description: 'DashScope text-embedding-v4 sparse output (needs a DashScope API key; 10 texts per request)',
  validate(config, check) {
    if (!config.apiKey) {
      check.fail(
        'The qwen sparse embedder needs an API key.',
        check.source === 'env'
          ? 'Set SPARSE_EMBEDDER_API_KEY or DASHSCOPE_API_KEY, or use SPARSE_EMBEDDER_PROVIDER=local (no key needed).'
          : `Set ${check.nameOf('apiKey')} (or the SPARSE_EMBEDDER_API_KEY / DASHSCOPE_API_KEY environment variable), or use the local provider.`,
      );
    }
    const model = config.model ?? QWEN_DEFAULTS.model;
    const allowed = QWEN_MODEL_DIMENSIONS[model];
    if (config.dims !== undefined && allowed && !allowed.includes(config.dims)) {
      check.fail(
        `${check.nameOf('dims')}=${config.dims} is not a dimension DashScope ${model} offers.`,
        `Use one of ${allowed.join(', ')} (default ${QWEN_DEFAULTS.dims}, as powermem).`,
      );
    }
  },
  create: (config) => new QwenSparseEmbedder(config),
};
