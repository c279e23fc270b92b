import { SparseVectorError } from '../errors';
import { EMBEDDER } from '../options/table';
import { createSparseVector, type SparseVector } from '../sparse/sparse-vector';
import { redact, registerSecret } from '../util/redact';
import { postJson, type HttpOptions, type HttpStats } from './http';
import { RequestLimiter } from './request-limiter';
import type { EmbedderConfig, EmbedderFingerprint, EmbedMode, EmbedOptions, SparseEmbedder } from './types';

/**
 * What an HTTP provider module (qwen.ts, tei.ts) builds on, from one place: the base class below, the
 * provider's HTTP settings, its key as a header, its answers' checks. The transport (JSON over HTTP with
 * timeout, retries and backoff) is http.ts.
 */
export type { HttpStats };
export type { EmbedderFingerprint, EmbedderProviderDefinition, EmbedMode, EmbedOptions } from './types';

/**
 * Register an API key with redact() and check that it can be sent in a header. Whitespace or control
 * characters would make fetch fail with a message that quotes the header, so such keys are refused
 * up front, without echoing them.
 */
export function bearerHeader(apiKey: string, setting = 'SPARSE_EMBEDDER_API_KEY'): Record<string, string> {
  registerSecret(apiKey);
  if (/[\s\u0000-\u001f\u007f]/.test(apiKey)) {
    throw new SparseVectorError('EMBEDDER_CONFIG', `${setting} contains whitespace or control characters.`, {
      hint: 'Copy the key again without spaces, quotes or line breaks.',
    });
  }
  return { Authorization: `Bearer ${apiKey}` };
}

/** An EMBEDDER_BAD_RESPONSE of `service`: what was wrong with its answer (redacted). */
export function malformedResponse(service: string, what: string): SparseVectorError {
  return new SparseVectorError(
    'EMBEDDER_BAD_RESPONSE',
    redact(`${service} returned a malformed response: ${what.replace(/\.$/, '')}.`),
  );
}

/**
 * Run `embed` on consecutive slices of at most `size` texts, one after the other, and concatenate the
 * results; checks that each slice produced one result per text. (One request per worker at a time: the
 * request limiter decides when each starts; a rejected key stops a run after a request per worker.)
 */
export async function inBatches<T>(
  texts: readonly string[],
  size: number,
  embed: (slice: string[]) => Promise<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < texts.length; i += size) {
    const slice = texts.slice(i, i + size);
    const got = await embed(slice);
    if (got.length !== slice.length)
      throw new SparseVectorError(
        'EMBEDDER_BAD_RESPONSE',
        `The embedder returned ${got.length} vectors for ${slice.length} texts.`,
      );
    out.push(...got);
  }
  return out;
}

/** The HTTP settings of a provider: the configured timeout, retries and backoff, or the defaults. */
export function httpOptions(
  config: Pick<EmbedderConfig, 'timeoutMs' | 'maxRetries' | 'backoffBaseMs' | 'maxRequestsPerMinute'>,
  service: string,
  describeError: HttpOptions['describeError'],
): HttpOptions {
  return {
    service,
    limiter: new RequestLimiter({ requestsPerMinute: config.maxRequestsPerMinute }),
    timeoutMs: config.timeoutMs ?? EMBEDDER.timeoutMs.default,
    maxRetries: config.maxRetries ?? EMBEDDER.maxRetries.default,
    backoffBaseMs: config.backoffBaseMs ?? EMBEDDER.backoffBaseMs.default,
    describeError,
  };
}

/**
 * A list of `{index, value}` objects (the sparse answer of DashScope and TEI) as a validated sparse vector;
 * anything else, or an invalid index or value, becomes `bad(what)` (an EMBEDDER_BAD_RESPONSE of the provider).
 */
export function vectorFromPairs(pairs: unknown, what: string, bad: (what: string) => Error): SparseVector {
  if (!Array.isArray(pairs)) throw bad(`${what} is not a list of {index, value}`);
  try {
    return createSparseVector(
      pairs.map(
        (p: { index?: unknown; value?: unknown } | null) =>
          [p?.index, p?.value] as unknown as readonly [number, number],
      ),
    );
  } catch (err) {
    throw bad(`${what}: ${(err as Error).message}`);
  }
}

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
