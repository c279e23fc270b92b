import { SparseVectorError } from '../errors';
import { EMBEDDER } from '../options/table';
import type { SparseVector } from '../sparse/sparse-vector';
import {
  HttpSparseEmbedder,
  malformedResponse,
  vectorFromPairs,
  type EmbedderFingerprint,
  type EmbedderProviderDefinition,
  type EmbedOptions,
  type HttpEmbedderConfig,
  type HttpStats,
} from './http-embedder';

/** Texts per request: the option table's default (TEI's own default --max-client-batch-size). */
export const TEI_DEFAULTS = { batchSize: EMBEDDER.batchSize.default } as const;

/** The /embed_sparse URL for a TEI base URL (with or without trailing slash, or already ending in /embed_sparse). */
export function teiEndpoint(base: string): string {
  const b = base.trim().replace(/\/+$/, '');
  return b.endsWith('/embed_sparse') ? b : `${b}/embed_sparse`;
}

/**
 * `tei`: Hugging Face text-embeddings-inference serving a sparse (SPLADE-style) model.
 * POST {base}/embed_sparse with `{"inputs": [...], "truncate": true}`; the answer is one list of
 * `{index, value}` per input. TEI has no query/document modes, so both embed the same way.
 */
export class TeiSparseEmbedder extends HttpSparseEmbedder {
  readonly provider = 'tei';
  readonly model: string;
  readonly maxBatchSize: number;
  readonly stats: HttpStats = { requests: 0, retries: 0 };
  /**
   * The configured model; without one, the server's URL (the model it serves), without user, password or
   * query. Never the key.
   */
  readonly fingerprint: EmbedderFingerprint;

  constructor(config: HttpEmbedderConfig) {
    if (!config.baseUrl) {
      throw new SparseVectorError(
        'EMBEDDER_CONFIG',
        'The tei sparse embedder needs the URL of a text-embeddings-inference server.',
        { hint: 'Set SPARSE_EMBEDDER_BASE_URL, e.g. http://127.0.0.1:8080.' },
      );
    }
    super(teiEndpoint(config.baseUrl), config, 'text-embeddings-inference', describeTeiError);
    this.model = config.model ?? 'tei';
    this.fingerprint = {
      provider: 'tei',
      model: this.model,
      params: config.model ? {} : { url: publicUrl(this.endpoint) },
    };
    this.maxBatchSize = config.batchSize ?? TEI_DEFAULTS.batchSize;
  }

  /** TEI has no query/document modes: both embed the same way. */
  protected async request(texts: string[], _mode: unknown, options: EmbedOptions): Promise<SparseVector[]> {
    const json = await this.post({ inputs: texts, truncate: true }, options);
    if (!Array.isArray(json) || json.length !== texts.length) {
      throw bad(
        `expected a list of ${texts.length} sparse vectors, got ${Array.isArray(json) ? `${json.length}` : typeof json}`,
      );
    }
    return json.map((pairs: unknown, i) => vectorFromPairs(pairs, `vector ${i}`, bad));
  }
}

/** A URL without user, password, query or fragment (what may be recorded and shown). */
function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

const bad = (what: string): SparseVectorError => malformedResponse('text-embeddings-inference', what);

function describeTeiError(
  status: number,
  body: unknown,
): { code: 'EMBEDDER_AUTH' | 'EMBEDDER_RATE_LIMIT' | 'EMBEDDER_HTTP'; message: string; hint?: string } {
  const b = (body && typeof body === 'object' ? body : {}) as { error?: unknown; error_type?: unknown };
  const detail =
    [b.error_type, b.error].filter((x) => typeof x === 'string' && x).join(': ') ||
    (typeof body === 'string' ? body.trim() : '');
  if (status === 401 || status === 403) {
    return {
      code: 'EMBEDDER_AUTH',
      message: `text-embeddings-inference rejected the credentials (HTTP ${status}).`,
      hint: 'Check SPARSE_EMBEDDER_API_KEY (sent as a Bearer token).',
    };
  }
  if (status === 429) {
    return {
      code: 'EMBEDDER_RATE_LIMIT',
      message: `text-embeddings-inference is overloaded (HTTP 429${detail ? `: ${detail}` : ''}).`,
      hint: "Lower --workers or raise the server's --max-concurrent-requests.",
    };
  }
  const hint =
    status === 413 ? "Lower SPARSE_EMBEDDER_BATCH_SIZE to at most the server's --max-client-batch-size." : undefined;
  return {
    code: 'EMBEDDER_HTTP',
    message: `text-embeddings-inference answered HTTP ${status}${detail ? `: ${detail}` : ''}.`,
    ...(hint ? { hint } : {}),
  };
}

export const teiProvider: EmbedderProviderDefinition<'tei'> = {
  name: 'tei',
  description: 'Hugging Face text-embeddings-inference /embed_sparse (SPLADE-style models; needs its URL)',
  validate(config, check) {
    if (!config.baseUrl) {
      check.fail(
        'The tei sparse embedder needs the URL of a text-embeddings-inference server.',
        `Set ${check.nameOf('baseUrl')}, e.g. http://127.0.0.1:8080.`,
      );
    }
  },
  create: (config) => new TeiSparseEmbedder(config),
};
