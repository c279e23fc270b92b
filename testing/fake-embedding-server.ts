import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalSparseEmbedder } from '../src/embedders/local';

/**
 * A test peer (for tests and benchmarks, never for production) that speaks the wire formats of DashScope's native embedding endpoint (flavor "qwen") and
 * Hugging Face TEI's /embed_sparse (flavor "tei"), including their error responses. Our client code runs
 * unmodified against it. By default each text's vector is the local embedder's, so callers can check that
 * every row got the embedding of its own text.
 */
export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  at: number;
  /** The status it was answered with (set when the answer is chosen) and whether that answer was malformed. */
  status?: number;
  malformed?: boolean;
}

export type ScriptedResponse =
  { status: number; body?: unknown; raw?: string; headers?: Record<string, string>; delayMs?: number } | 'default';

export interface FakeServerOptions {
  flavor: 'qwen' | 'tei';
  /** Added to every response. */
  latencyMs?: number;
  /** Probability of a 500 answer (deterministic RNG seeded with `seed`). */
  failureRate?: number;
  /**
   * Texts whose requests never get failureRate's 500s, when every text of the request is one: a test that
   * checks why a row alone fails keeps its 5 attempts from all drawing a 500 (0.3^5, by the order requests
   * happen to arrive in).
   */
  spared?: (text: string) => boolean;
  seed?: number;
  /** Responses for the first requests, in order; after them the default behaviour. */
  script?: ScriptedResponse[];
  /** Vector entries for a text (default: the local embedder's document vector). */
  vectorFor?: (text: string) => Array<[number, number]>;
  /** Key that is accepted (others get 401); undefined accepts any. */
  apiKey?: string;
  /** Shuffle text_index order in qwen answers. */
  shuffle?: boolean;
  /** Answer 429 at once to a request that arrives while this many are already being answered. */
  maxInFlight?: number;
  /** Answer 429 at once when this token bucket is empty (a token per request; burst: its capacity, default 1 s worth). */
  rateLimit?: { perSecond: number; burst?: number };
  /** Retry-After (seconds) sent with those 429s (default: none, as DashScope). */
  retryAfterSeconds?: number;
}

/** What the rate limits of the peer did. */
export interface FakeServerLimits {
  /** Requests answered 429 by maxInFlight or rateLimit. */
  rateLimited: number;
  /** Requests answered normally. */
  accepted: number;
  /** Most requests being answered normally at once. */
  maxInFlight: number;
  /** Requests being answered now. */
  inFlight: number;
}

export interface FakeEmbeddingServer {
  url: string;
  requests: RecordedRequest[];
  limits: FakeServerLimits;
  close(): Promise<void>;
}

export async function startFakeEmbeddingServer(options: FakeServerOptions): Promise<FakeEmbeddingServer> {
  const vectorFor = options.vectorFor ?? localVectors();
  const script = [...(options.script ?? [])];
  const requests: RecordedRequest[] = [];
  // Responses not yet sent (latency, delays): close() cancels them, so a long delay never outlives the server.
  const pending = new Set<NodeJS.Timeout>();
  let rng = (options.seed ?? 7) >>> 0;
  const random = () => (rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0) / 4294967296;
  const limiter = rateLimits(options);
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(data);
      } catch {
        body = data;
      }
      const recorded: RecordedRequest = { path: req.url ?? '', headers: req.headers, body, at: Date.now() };
      requests.push(recorded);
      // What the provider's request body should hold; a wrong body reads as empty and gets a provider-like answer.
      const fields = (typeof body === 'object' && body !== null ? body : {}) as RequestFields;
      const send = responder(res, recorded, pending, options.latencyMs ?? 0);
      const step = script.shift();
      if (step && step !== 'default') return send(step.status, step.body, step.headers, step.raw, step.delayMs);
      if (!limiter.admit(res)) return tooManyRequests(res, options);
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        return options.flavor === 'qwen'
          ? send(401, { code: 'InvalidApiKey', message: 'Invalid API-key provided.', request_id: 'fake-1' })
          : send(401, { error: 'Unauthorized', error_type: 'Unauthorized' });
      }
      if (options.failureRate && !allSpared(options, fields) && random() < options.failureRate) {
        return options.flavor === 'qwen'
          ? send(500, { code: 'InternalError', message: 'Internal server error', request_id: 'fake-2' })
          : send(503, { error: 'Model is overloaded', error_type: 'Overloaded' });
      }
      const [status, payload] = embeddingAnswer(options, req.url, fields, vectorFor);
      return send(status, payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    limits: limiter.limits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Send = (status: number, payload: unknown, headers?: Record<string, string>, raw?: string, delay?: number) => void;

/**
 * Answers `res` after the server's latency (plus `delay`), noting the status on the recorded request; the
 * timer stays in `pending` until it fires, so that close() can cancel it.
 */
function responder(
  res: http.ServerResponse,
  recorded: RecordedRequest,
  pending: Set<NodeJS.Timeout>,
  latencyMs: number,
): Send {
  return (status, payload, headers = {}, raw, delay = 0) => {
    recorded.status = status;
    recorded.malformed = raw !== undefined;
    const timer = setTimeout(() => {
      pending.delete(timer);
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(raw ?? JSON.stringify(payload));
    }, latencyMs + delay);
    pending.add(timer);
  };
}

/**
 * The peer's limits: admit(res) is false for a request over maxInFlight or without a token of the
 * bucket; an admitted request counts as in flight until its answer is sent.
 */
function rateLimits(options: FakeServerOptions): {
  limits: FakeServerLimits;
  admit(res: http.ServerResponse): boolean;
} {
  const limits: FakeServerLimits = { rateLimited: 0, accepted: 0, maxInFlight: 0, inFlight: 0 };
  const rate = options.rateLimit;
  const bucket = { tokens: rate ? (rate.burst ?? rate.perSecond) : 0, at: Date.now() };
  const tokenTaken = (): boolean => {
    if (!rate) return true;
    const now = Date.now();
    bucket.tokens = Math.min(rate.burst ?? rate.perSecond, bucket.tokens + ((now - bucket.at) / 1000) * rate.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
  const admit = (res: http.ServerResponse): boolean => {
    const full = options.maxInFlight !== undefined && limits.inFlight >= options.maxInFlight;
    if (full || !tokenTaken()) {
      limits.rateLimited++;
      return false;
    }
    limits.accepted++;
    limits.inFlight++;
    limits.maxInFlight = Math.max(limits.maxInFlight, limits.inFlight);
    res.on('close', () => limits.inFlight--);
    return true;
  };
  return { limits, admit };
}

/** DashScope's (or TEI's) 429 answer, sent at once. */
function tooManyRequests(res: http.ServerResponse, options: FakeServerOptions): void {
  const retryAfter =
    options.retryAfterSeconds !== undefined ? { 'retry-after': String(options.retryAfterSeconds) } : {};
  res.writeHead(429, { 'content-type': 'application/json', ...retryAfter });
  res.end(
    JSON.stringify(
      options.flavor === 'qwen'
        ? {
            code: 'Throttling.RateQuota',
            message: 'Requests rate limit exceeded, please try again later.',
            request_id: 'fake-429',
          }
        : { error: 'Model is overloaded', error_type: 'Overloaded' },
    ),
  );
}

/** The default vectors: the local embedder's, as [index, value] pairs. */
function localVectors(): (text: string) => Array<[number, number]> {
  const local = new LocalSparseEmbedder();
  return (t) => {
    const v = local.embed(t, 'document');
    return Array.from(v.indices, (i, k) => [i, v.values[k]] as [number, number]);
  };
}

interface RequestFields {
  input?: { texts?: string[] };
  inputs?: string | string[];
}

/** The texts of an embedding request, in the provider's wire format. */
function requestTexts(options: FakeServerOptions, fields: RequestFields): string[] {
  if (options.flavor === 'qwen') return fields.input?.texts ?? [];
  return Array.isArray(fields.inputs) ? fields.inputs : [fields.inputs as string];
}

/** Whether every text of the request is one that options.spared spares (see there). */
function allSpared(options: FakeServerOptions, fields: RequestFields): boolean {
  const texts = requestTexts(options, fields);
  return (
    options.spared !== undefined && texts.length > 0 && texts.every((t) => typeof t === 'string' && options.spared!(t))
  );
}

/** The provider's answer to an embedding request: [status, JSON payload]. */
function embeddingAnswer(
  options: FakeServerOptions,
  url: string | undefined,
  fields: RequestFields,
  vectorFor: (text: string) => Array<[number, number]>,
): [number, unknown] {
  if (options.flavor === 'qwen') {
    if (url !== '/api/v1/services/embeddings/text-embedding/text-embedding') {
      return [404, { code: 'NotFound', message: 'no such path' }];
    }
    const texts = requestTexts(options, fields);
    let embeddings = texts.map((t, i) => ({
      text_index: i,
      sparse_embedding: vectorFor(t).map(([index, value]) => ({ index, value, token: `t${index}` })),
    }));
    if (options.shuffle) embeddings = embeddings.reverse();
    return [200, { output: { embeddings }, usage: { total_tokens: texts.join('').length }, request_id: 'fake-ok' }];
  }
  if (url !== '/embed_sparse') return [404, { error: 'Not Found', error_type: 'NotFound' }];
  return [200, requestTexts(options, fields).map((t) => vectorFor(t).map(([index, value]) => ({ index, value })))];
}
