import { SparseVectorError } from '../../src/errors';
import { createEmbedder } from '../../src/embedders';
import { backoffMs, postJson, retryAfterMs } from '../../src/embedders/http';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { DASHSCOPE_EMBEDDING_PATH, dashscopeEndpoint, QwenSparseEmbedder } from '../../src/embedders/qwen';
import { teiEndpoint, TeiSparseEmbedder } from '../../src/embedders/tei';
import { sparseEquals, type SparseVector } from '../../src/sparse/sparse-vector';
import { waitUntil } from '../support/backfill';
import { startFakeEmbeddingServer, type FakeEmbeddingServer } from '../support/fake-embedding-server';

const KEY = 'sk-test-9f8e7d6c5b4a';
const local = new LocalSparseEmbedder();
const qwen = (url: string, extra: Record<string, unknown> = {}) =>
  new QwenSparseEmbedder({
    provider: 'qwen',
    apiKey: KEY,
    baseUrl: url,
    backoffBaseMs: 10,
    maxRetries: 3,
    timeoutMs: 2000,
    ...extra,
  });

async function failure(p: Promise<unknown>): Promise<SparseVectorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SparseVectorError);
  return e as SparseVectorError;
}

/** Each vector is the local document vector of its own text (what the fake peer returns by default). */
function expectOwnVectors(texts: string[], vectors: SparseVector[]): void {
  expect(vectors).toHaveLength(texts.length);
  texts.forEach((t, i) => expect(sparseEquals(vectors[i], local.embed(t, 'document'))).toBe(true));
}

let server: FakeEmbeddingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('qwen provider against a DashScope-speaking peer', () => {
  test('request shape: path, Bearer key, JSON body with model, dimension, text_type and output_type', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', apiKey: KEY });
    const e = qwen(server.url, { dims: 1536 });
    const texts = ['User is allergic to peanuts', '用户喜欢在周末去爬山'];
    expectOwnVectors(texts, await e.embedDocuments(texts));
    const r0 = server.requests[0];
    expect(r0.path).toBe(DASHSCOPE_EMBEDDING_PATH);
    expect(r0.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r0.headers['content-type']).toBe('application/json');
    expect(r0.body).toEqual({
      model: 'text-embedding-v4',
      input: { texts },
      parameters: { dimension: 1536, text_type: 'document', output_type: 'sparse' },
    });
    await e.embedQuery('what food allergies do I have');
    expect(server.requests[1].body).toEqual({
      model: 'text-embedding-v4',
      input: { texts: ['what food allergies do I have'] },
      parameters: { dimension: 1536, text_type: 'query', output_type: 'sparse' },
    });
    expect(e.stats).toEqual({
      requests: 2,
      retries: 0,
      tokens: texts.join('').length + 'what food allergies do I have'.length,
    });
  });

  test("defaults are powermem's: model text-embedding-v4, dimension 1536, mainland endpoint", () => {
    const e = new QwenSparseEmbedder({ apiKey: KEY });
    expect(e.model).toBe('text-embedding-v4');
    expect(e.dims).toBe(1536);
    expect(e.maxBatchSize).toBe(10);
    expect(e.endpoint).toBe('https://dashscope.aliyuncs.com/api/v1/services/embeddings/text-embedding/text-embedding');
  });

  test('25 texts -> 3 requests of at most 10, each row gets the embedding of its own text despite shuffled text_index order', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', shuffle: true });
    const texts = Array.from({ length: 25 }, (_, i) => `memory number ${i} about topic ${i % 4} ${'x'.repeat(i + 1)}`);
    const vectors = await qwen(server.url).embedDocuments(texts);
    expect(server.requests.map((r) => r.body.input.texts)).toEqual([
      texts.slice(0, 10),
      texts.slice(10, 20),
      texts.slice(20),
    ]);
    expectOwnVectors(texts, vectors);
    expect(await qwen(server.url).embedDocuments([])).toEqual([]);
    expect(server.requests).toHaveLength(3);
  });

  test('base URL forms: host, host/, host/api/v1, host/api/v1/, compatible-mode, the full endpoint (international and mainland)', () => {
    const path = '/api/v1/services/embeddings/text-embedding/text-embedding';
    expect(dashscopeEndpoint()).toBe('https://dashscope.aliyuncs.com' + path);
    for (const base of [
      'https://dashscope.aliyuncs.com',
      'https://dashscope.aliyuncs.com/',
      'https://dashscope.aliyuncs.com/api/v1',
      'https://dashscope.aliyuncs.com/api/v1/',
      'https://dashscope.aliyuncs.com/compatible-mode/v1',
      'https://dashscope.aliyuncs.com' + path,
    ]) {
      expect(dashscopeEndpoint(base)).toBe('https://dashscope.aliyuncs.com' + path);
    }
  });

  test('401 InvalidApiKey -> EMBEDDER_AUTH at once, no retries (the key: secrets-in-process.test.ts)', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', apiKey: 'the-right-key' });
    const err = await failure(qwen(server.url).embedDocuments(['x']));
    expect(err.code).toBe('EMBEDDER_AUTH');
    expect(err.message).toBe('DashScope rejected the API key (HTTP 401 InvalidApiKey).');
    expect(err.hint).toContain('SPARSE_EMBEDDER_API_KEY');
    expect(server.requests).toHaveLength(1);
  });

  test('403 -> EMBEDDER_AUTH; 400 -> EMBEDDER_HTTP with the server message; neither retried', async () => {
    server = await startFakeEmbeddingServer({
      flavor: 'qwen',
      script: [
        { status: 403, body: { code: 'AccessDenied', message: 'Access denied.' } },
        { status: 400, body: { code: 'InvalidParameter', message: 'Range of input length should be [1, 8192]' } },
      ],
    });
    const auth = await failure(qwen(server.url).embedDocuments(['x']));
    expect([auth.code, auth.message]).toEqual([
      'EMBEDDER_AUTH',
      'DashScope rejected the API key (HTTP 403 AccessDenied).',
    ]);
    const badInput = await failure(qwen(server.url).embedDocuments(['x']));
    expect([badInput.code, badInput.message]).toEqual([
      'EMBEDDER_HTTP',
      'DashScope answered HTTP 400: InvalidParameter: Range of input length should be [1, 8192].',
    ]);
    expect(server.requests).toHaveLength(2);
  });

  test('429 with Retry-After: 1 -> waits about a second, then succeeds', async () => {
    server = await startFakeEmbeddingServer({
      flavor: 'qwen',
      script: [
        {
          status: 429,
          body: { code: 'Throttling', message: 'Requests rate limit exceeded' },
          headers: { 'retry-after': '1' },
        },
      ],
    });
    const e = qwen(server.url, { backoffBaseMs: 1 });
    expectOwnVectors(['hello world'], await e.embedDocuments(['hello world']));
    expect(server.requests).toHaveLength(2);
    const waited = server.requests[1].at - server.requests[0].at;
    expect(waited).toBeGreaterThanOrEqual(950); // the server's clock: the retry came no earlier than asked
    expect(e.stats).toMatchObject({ requests: 2, retries: 1 });
  });

  test('Retry-After as an HTTP date is honoured too', async () => {
    // HTTP dates have one-second resolution: ask for "now + 2 s", expect a wait of 1-2 s.
    const date = new Date(Math.floor(Date.now() / 1000) * 1000 + 2000).toUTCString();
    server = await startFakeEmbeddingServer({
      flavor: 'qwen',
      script: [
        { status: 503, body: { code: 'ServiceUnavailable', message: 'busy' }, headers: { 'retry-after': date } },
      ],
    });
    await qwen(server.url, { backoffBaseMs: 1 }).embedDocuments(['a']);
    const waited = server.requests[1].at - server.requests[0].at;
    expect(waited).toBeGreaterThanOrEqual(900);
  });

  test('persistent 429 -> EMBEDDER_RATE_LIMIT after maxRetries', async () => {
    const throttled = { status: 429, body: { code: 'Throttling', message: 'Requests rate limit exceeded' } };
    server = await startFakeEmbeddingServer({ flavor: 'qwen', script: [throttled, throttled, throttled] });
    const err = await failure(qwen(server.url, { maxRetries: 2 }).embedDocuments(['a']));
    expect(err.code).toBe('EMBEDDER_RATE_LIMIT');
    expect(err.message).toBe(
      'DashScope is rate limiting requests (HTTP 429: Throttling: Requests rate limit exceeded). (gave up after 3 attempts)',
    );
    expect(server.requests).toHaveLength(3);
  });

  test('500 then success is retried', async () => {
    server = await startFakeEmbeddingServer({
      flavor: 'qwen',
      script: [{ status: 500, body: { code: 'InternalError', message: 'oops' } }],
    });
    expectOwnVectors(['a b c'], await qwen(server.url).embedDocuments(['a b c']));
    expect(server.requests).toHaveLength(2);
  });

  test('persistent 503 -> EMBEDDER_HTTP after exactly 1 + maxRetries attempts', async () => {
    const down = {
      status: 503,
      body: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable' },
    };
    server = await startFakeEmbeddingServer({ flavor: 'qwen', script: [down, down, down, down, down] });
    const err = await failure(qwen(server.url, { maxRetries: 3 }).embedDocuments(['a']));
    expect(err.code).toBe('EMBEDDER_HTTP');
    expect(err.message).toBe(
      'DashScope answered HTTP 503: ServiceUnavailable: The service is temporarily unavailable. (gave up after 4 attempts)',
    );
    expect(server.requests).toHaveLength(4);
  });

  test('maxRetries 0 -> a single attempt', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', failureRate: 1 });
    const err = await failure(qwen(server.url, { maxRetries: 0 }).embedDocuments(['a']));
    expect(err.message).toBe(
      'DashScope answered HTTP 500: InternalError: Internal server error. (gave up after 1 attempts)',
    );
    expect(server.requests).toHaveLength(1);
  });

  test('slow responses -> EMBEDDER_TIMEOUT (each attempt times out, then it gives up)', async () => {
    // The server would answer after 10 minutes: only the client's timeout can end this within the test's time.
    server = await startFakeEmbeddingServer({ flavor: 'qwen', latencyMs: 600_000 });
    const err = await failure(qwen(server.url, { timeoutMs: 100, maxRetries: 1 }).embedDocuments(['a']));
    expect(err.code).toBe('EMBEDDER_TIMEOUT');
    expect(err.message).toBe('DashScope did not answer within 100 ms. (gave up after 2 attempts)');
    // (The attempts are counted by the client, in the message: under load a request given up after 100 ms
    // may never reach the server, so the server's count would be a race.)
  });

  test("the caller's signal aborts a pending request and a retry wait", async () => {
    // Answers after 10 minutes, then a Retry-After of 30 minutes (capped at 60 s): only the caller's signal
    // can end these within the test's time.
    server = await startFakeEmbeddingServer({ flavor: 'qwen', latencyMs: 600_000 });
    await expect(
      qwen(server.url, { timeoutMs: 3_600_000 }).embedDocuments(['a'], { signal: AbortSignal.timeout(100) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    await server.close();
    server = await startFakeEmbeddingServer({
      flavor: 'qwen',
      script: [{ status: 503, headers: { 'retry-after': '1800' } }],
    });
    const controller = new AbortController();
    const pending = qwen(server.url).embedDocuments(['a'], { signal: controller.signal });
    const throttling = server;
    await waitUntil(() => throttling.requests.length === 1); // the 503 is on its way: the client is about to wait
    controller.abort(new Error('cancelled by caller'));
    await expect(pending).rejects.toThrow('cancelled by caller');
    expect(server.requests).toHaveLength(1);
  });

  test('network error: nothing listens on the port', async () => {
    const closed = await startFakeEmbeddingServer({ flavor: 'qwen' });
    await closed.close();
    const err = await failure(qwen(closed.url, { maxRetries: 1 }).embedDocuments(['a']));
    expect(err.code).toBe('EMBEDDER_UNREACHABLE');
    expect(err.message).toBe(
      `Cannot reach DashScope at ${closed.url} (ECONNREFUSED: connection refused (nothing listens there)). (gave up after 2 attempts)`,
    );
  });

  const one = (sparse: unknown, text_index: unknown = 0) => ({
    status: 200,
    body: { output: { embeddings: [{ text_index, sparse_embedding: sparse }] }, usage: { total_tokens: 1 } },
  });
  test.each([
    [{ status: 200, raw: '<html>gateway</html>' }, 'DashScope answered HTTP 200 with a body that is not JSON.'],
    [{ status: 200, raw: '{"output": {"embeddings": [' }, 'DashScope answered HTTP 200 with a body that is not JSON.'],
    [
      { status: 200, body: { output: {} } },
      'DashScope returned a malformed response: expected output.embeddings with 1 entries, got undefined.',
    ],
    [
      { status: 200, body: { output: { embeddings: [] } } },
      'DashScope returned a malformed response: expected output.embeddings with 1 entries, got 0.',
    ],
    [one([], 5), 'DashScope returned a malformed response: an embedding has a missing or invalid text_index 5.'],
    [
      { status: 200, body: { output: { embeddings: [{ sparse_embedding: [] }] } } },
      'DashScope returned a malformed response: an embedding has a missing or invalid text_index undefined.',
    ],
    [one(undefined), 'DashScope returned a malformed response: embedding 0 is not a list of {index, value}.'],
    [
      one([{ index: 1, value: 'NaN' }]),
      'DashScope returned a malformed response: embedding 0: Sparse vector weight "NaN" at entry 0 is not a finite number.',
    ],
    [
      one([{ index: 1, value: null }]),
      'DashScope returned a malformed response: embedding 0: Sparse vector weight null at entry 0 is not a finite number.',
    ],
    [
      one([{ index: 1, value: 1e39 }]),
      'DashScope returned a malformed response: embedding 0: Sparse vector weight 1e+39 at entry 0 does not fit in a float32.',
    ],
    [
      one([{ index: -3, value: 1 }]),
      'DashScope returned a malformed response: embedding 0: Sparse vector index -3 at entry 0 is not a non-negative integer.',
    ],
    [
      one([{ index: 2 ** 32, value: 1 }]),
      'DashScope returned a malformed response: embedding 0: Sparse vector index 4294967296 at entry 0 is above 4294967295 (indices are unsigned 32-bit).',
    ],
    [
      one([{ value: 1 }]),
      'DashScope returned a malformed response: embedding 0: Sparse vector index undefined at entry 0 is not a non-negative integer.',
    ],
    [
      one([
        { index: 4, value: 1 },
        { index: 4, value: 2 },
      ]),
      'DashScope returned a malformed response: embedding 0: Sparse vector index 4 appears more than once.',
    ],
  ])('malformed answer %j -> EMBEDDER_BAD_RESPONSE: %s', async (step, message) => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', script: [step] });
    const err = await failure(qwen(server.url).embedDocuments(['a']));
    expect(err.code).toBe('EMBEDDER_BAD_RESPONSE');
    expect(err.message).toBe(message);
    expect(server.requests).toHaveLength(1);
  });

  test('a text_index given twice is rejected (with as many entries as texts, that is also how a missing one shows)', async () => {
    server = await startFakeEmbeddingServer({
      flavor: 'qwen',
      script: [
        {
          status: 200,
          body: {
            output: {
              embeddings: [
                { text_index: 0, sparse_embedding: [] },
                { text_index: 0, sparse_embedding: [] },
              ],
            },
          },
        },
      ],
    });
    const err = await failure(qwen(server.url).embedDocuments(['a', 'b']));
    expect(err.message).toBe('DashScope returned a malformed response: text_index 0 appears more than once.');
  });
});

describe('shared HTTP machinery', () => {
  test('Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('0.2')).toBe(200);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(new Date(1_000).toUTCString(), 4_000)).toBe(0);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  test('full-jitter exponential backoff: random(0, min(max, base * 2^attempt))', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(3, 100, 1000, () => 0.5)).toBe(400);
    expect(backoffMs(3, 100, 1000, () => 0)).toBe(0);
  });

  test('a huge Retry-After is capped by maxRetryAfterMs', async () => {
    server = await startFakeEmbeddingServer({
      flavor: 'tei',
      script: [{ status: 429, body: { error: 'busy', error_type: 'Overloaded' }, headers: { 'retry-after': '3600' } }],
    });
    const stats = { requests: 0, retries: 0 };
    const answer = await postJson(
      teiEndpoint(server.url),
      {},
      { inputs: ['hi'], truncate: true },
      {
        service: 'tei',
        timeoutMs: 2000,
        maxRetries: 2,
        backoffBaseMs: 1,
        maxRetryAfterMs: 200,
        describeError: () => ({ code: 'EMBEDDER_RATE_LIMIT', message: 'busy' }),
      },
      stats,
    );
    expect(Array.isArray(answer)).toBe(true); // (an hour's wait would have ended the test by its timeout)
    expect(server.requests[1].at - server.requests[0].at).toBeGreaterThanOrEqual(190);
    expect(stats).toEqual({ requests: 2, retries: 1 });
  });
});

describe('tei provider against a text-embeddings-inference peer', () => {
  test('POST /embed_sparse with {inputs, truncate: true}, batching, one vector per input, optional Bearer key', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'tei' });
    const e = new TeiSparseEmbedder({
      baseUrl: server.url + '/',
      batchSize: 4,
      backoffBaseMs: 5,
      apiKey: 'tei-token-123',
    });
    const texts = ['one fish', 'two fish', 'red fish', 'blue fish', 'old fish'];
    expectOwnVectors(texts, await e.embedDocuments(texts));
    expect(server.requests.map((r) => r.path)).toEqual(['/embed_sparse', '/embed_sparse']);
    expect(server.requests.map((r) => r.body)).toEqual([
      { inputs: texts.slice(0, 4), truncate: true },
      { inputs: texts.slice(4), truncate: true },
    ]);
    expect(server.requests[0].headers.authorization).toBe('Bearer tei-token-123');
    expectOwnVectors(['a query'], [await e.embedQuery('a query')]);
    const anonymous = new TeiSparseEmbedder({ baseUrl: server.url });
    await anonymous.embedDocuments(['x']);
    expect(server.requests[3].headers.authorization).toBeUndefined();
    expect(anonymous.maxBatchSize).toBe(32);
    expect(teiEndpoint('http://h:8080/embed_sparse/')).toBe('http://h:8080/embed_sparse');
  });

  test('503 is retried; 413 is not, and its error names the batch size setting', async () => {
    server = await startFakeEmbeddingServer({
      flavor: 'tei',
      script: [
        { status: 503, body: { error: 'Model is overloaded', error_type: 'Overloaded' } },
        'default',
        { status: 413, body: { error: 'batch size 64 > maximum allowed batch size 32', error_type: 'Validation' } },
      ],
    });
    const e = new TeiSparseEmbedder({ baseUrl: server.url, backoffBaseMs: 5, maxRetries: 2 });
    expectOwnVectors(['a'], await e.embedDocuments(['a']));
    expect(e.stats).toEqual({ requests: 2, retries: 1 });
    const err = await failure(e.embedDocuments(['a']));
    expect(err.code).toBe('EMBEDDER_HTTP');
    expect(err.message).toBe(
      'text-embeddings-inference answered HTTP 413: Validation: batch size 64 > maximum allowed batch size 32.',
    );
    expect(err.hint).toContain('SPARSE_EMBEDDER_BATCH_SIZE');
    expect(server.requests).toHaveLength(3);
  });

  test('429 with Retry-After: 1 -> the tei embedder waits about a second, then succeeds', async () => {
    server = await startFakeEmbeddingServer({
      flavor: 'tei',
      script: [{ status: 429, body: { error: 'busy', error_type: 'Overloaded' }, headers: { 'retry-after': '1' } }],
    });
    const e = new TeiSparseEmbedder({ baseUrl: server.url, backoffBaseMs: 1 });
    expectOwnVectors(['hello tei'], await e.embedDocuments(['hello tei']));
    const waited = server.requests[1].at - server.requests[0].at;
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(e.stats).toEqual({ requests: 2, retries: 1 });
  });

  test('slow responses -> EMBEDDER_TIMEOUT from the tei embedder too', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'tei', latencyMs: 600_000 });
    const err = await failure(
      new TeiSparseEmbedder({ baseUrl: server.url, timeoutMs: 100, maxRetries: 1, backoffBaseMs: 1 }).embedDocuments([
        'a',
      ]),
    );
    expect(err.code).toBe('EMBEDDER_TIMEOUT');
    expect(err.message).toBe('text-embeddings-inference did not answer within 100 ms. (gave up after 2 attempts)');
    // (The attempts are counted by the client, in the message: under load a request given up after 100 ms
    // may never reach the server, so the server's count would be a race.)
  });

  test('persistent 503 gives up after maxRetries; 401 -> EMBEDDER_AUTH', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'tei', failureRate: 1 });
    const err = await failure(
      new TeiSparseEmbedder({ baseUrl: server.url, backoffBaseMs: 1, maxRetries: 2 }).embedDocuments(['a']),
    );
    expect(err.message).toBe(
      'text-embeddings-inference answered HTTP 503: Overloaded: Model is overloaded. (gave up after 3 attempts)',
    );
    await server.close();
    server = await startFakeEmbeddingServer({ flavor: 'tei', apiKey: 'right' });
    const auth = await failure(
      new TeiSparseEmbedder({ baseUrl: server.url, apiKey: 'wrong-token' }).embedDocuments(['a']),
    );
    expect([auth.code, auth.message]).toEqual([
      'EMBEDDER_AUTH',
      'text-embeddings-inference rejected the credentials (HTTP 401).',
    ]);
  });

  test.each([
    [
      { status: 200, body: { embeddings: [] } },
      'text-embeddings-inference returned a malformed response: expected a list of 2 sparse vectors, got object.',
    ],
    [
      { status: 200, body: [[]] },
      'text-embeddings-inference returned a malformed response: expected a list of 2 sparse vectors, got 1.',
    ],
    [
      { status: 200, body: [[], 'x'] },
      'text-embeddings-inference returned a malformed response: vector 1 is not a list of {index, value}.',
    ],
    [
      { status: 200, body: [[], [{ index: 3, value: null }]] },
      'text-embeddings-inference returned a malformed response: vector 1: Sparse vector weight null at entry 0 is not a finite number.',
    ],
    [
      { status: 200, body: [[{ index: 1.5, value: 1 }], []] },
      'text-embeddings-inference returned a malformed response: vector 0: Sparse vector index 1.5 at entry 0 is not a non-negative integer.',
    ],
  ])('malformed answer %j -> EMBEDDER_BAD_RESPONSE', async (step, message) => {
    server = await startFakeEmbeddingServer({ flavor: 'tei', script: [step] });
    const err = await failure(new TeiSparseEmbedder({ baseUrl: server.url }).embedDocuments(['a', 'b']));
    expect(err.code).toBe('EMBEDDER_BAD_RESPONSE');
    expect(err.message).toBe(message);
  });
});

describe('createEmbedder with HTTP providers', () => {
  test('builds each provider and re-applies provider rules to hand-built configs', () => {
    expect(createEmbedder({ provider: 'qwen', apiKey: KEY })).toBeInstanceOf(QwenSparseEmbedder);
    expect(createEmbedder({ provider: 'tei', baseUrl: 'http://127.0.0.1:1' })).toBeInstanceOf(TeiSparseEmbedder);
    expect(() => createEmbedder({ provider: 'qwen' })).toThrow('The qwen sparse embedder needs an API key.');
    expect(() => createEmbedder({ provider: 'qwen', apiKey: KEY, dims: 4096 })).toThrow(
      'dims=4096 is not a dimension DashScope text-embedding-v4 offers.',
    );
    expect(() => createEmbedder({ provider: 'qwen', apiKey: KEY, dims: 1000 })).toThrow(
      'dims=1000 is not a dimension DashScope text-embedding-v4 offers.',
    );
    expect(() => createEmbedder({ provider: 'qwen', apiKey: KEY, model: 'text-embedding-v3', dims: 2048 })).toThrow(
      'dims=2048 is not a dimension DashScope text-embedding-v3 offers.',
    );
    expect(createEmbedder({ provider: 'qwen', apiKey: KEY, dims: 768 }).model).toBe('text-embedding-v4');
    expect(() => createEmbedder({ provider: 'tei' })).toThrow(
      'The tei sparse embedder needs the URL of a text-embeddings-inference server.',
    );
    expect(() => createEmbedder({ provider: 'nope' as 'local' })).toThrow('Unknown sparse embedder provider "nope".');
  });
});
