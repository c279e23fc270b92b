import { createEmbedder } from '../../src/embedders';
import { embedderConfigFromEnv, embedderConfigFromObject } from '../../src/embedders/config';
import { retryAfterMs } from '../../src/embedders/http';
import { dashscopeEndpoint, QwenSparseEmbedder } from '../../src/embedders/qwen';
import { TeiSparseEmbedder } from '../../src/embedders/tei';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { sparseEquals } from '../../src/sparse/sparse-vector';
import { startFakeEmbeddingServer, type FakeEmbeddingServer } from '../support/fake-embedding-server';

const KEY = 'sk-test-9f8e7d6c5b4a';
const qwen = (url: string, extra: Record<string, unknown> = {}) =>
  new QwenSparseEmbedder({ provider: 'qwen', apiKey: KEY, baseUrl: url, backoffBaseMs: 10, maxRetries: 3, timeoutMs: 2000, ...extra });

describe('qwen provider against a DashScope-speaking peer', () => {
  let server: FakeEmbeddingServer;
  afterEach(async () => server?.close());

  test('request shape, batching by 10, answers ordered by text_index', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', apiKey: KEY, shuffle: true });
    const texts = Array.from({ length: 25 }, (_, i) => `memory number ${i} about topic ${i % 4}`);
    const e = qwen(server.url, { dims: 1536 });
    const vectors = await e.embedDocuments(texts);
    expect(server.requests.map((r) => r.body.input.texts.length)).toEqual([10, 10, 5]);
    const r0 = server.requests[0];
    expect(r0.path).toBe('/api/v1/services/embeddings/text-embedding/text-embedding');
    expect(r0.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r0.body).toEqual({ model: 'text-embedding-v4', input: { texts: texts.slice(0, 10) }, parameters: { dimension: 1536, text_type: 'document', output_type: 'sparse' } });
    const local = new LocalSparseEmbedder();
    texts.forEach((t, i) => expect(sparseEquals(vectors[i], local.embed(t, 'document'))).toBe(true));
    await e.embedQuery('a query');
    expect(server.requests[3].body.parameters.text_type).toBe('query');
    expect(e.stats.tokens).toBeGreaterThan(0);
  });

  test('base URL forms: host, host/, host/api/v1 (international and mainland)', () => {
    const path = '/api/v1/services/embeddings/text-embedding/text-embedding';
    expect(dashscopeEndpoint()).toBe('https://dashscope-intl.aliyuncs.com' + path);
    expect(dashscopeEndpoint('https://dashscope.aliyuncs.com/')).toBe('https://dashscope.aliyuncs.com' + path);
    expect(dashscopeEndpoint('https://dashscope.aliyuncs.com/api/v1')).toBe('https://dashscope.aliyuncs.com' + path);
  });

  test('401 -> "invalid key" error at once, without retries and without the key', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', apiKey: 'the-right-key' });
    const err = await qwen(server.url).embedDocuments(['x']).catch((e) => e);
    expect(err.code).toBe('EMBEDDER_AUTH');
    expect(err.message).toBe('DashScope rejected the API key (HTTP 401 InvalidApiKey).');
    expect(server.requests).toHaveLength(1);
    expect(JSON.stringify({ m: err.message, s: err.stack, h: err.hint, c: String(err.cause) })).not.toContain(KEY);
  });

  test('429 with Retry-After: waits that long, then succeeds', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', script: [{ status: 429, body: { code: 'Throttling', message: 'Requests rate limit exceeded' }, headers: { 'retry-after': '1' } }] });
    const started = Date.now();
    const [v] = await qwen(server.url).embedDocuments(['hello world']);
    expect(v.indices.length).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].at - server.requests[0].at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('500 then success is retried; persistent 503 gives up after maxRetries with a clear error', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', script: [{ status: 500, body: { code: 'InternalError', message: 'oops' } }] });
    expect(await qwen(server.url).embedDocuments(['a'])).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    await server.close();
    server = await startFakeEmbeddingServer({ flavor: 'qwen', failureRate: 1 });
    const err = await qwen(server.url, { maxRetries: 2 }).embedDocuments(['a']).catch((e) => e);
    expect(err.code).toBe('EMBEDDER_HTTP');
    expect(err.message).toBe('DashScope answered HTTP 500: InternalError: Internal server error. (gave up after 3 attempts)');
    expect(server.requests).toHaveLength(3);
  });

  test('slow responses time out (and are retried)', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', latencyMs: 400 });
    const err = await qwen(server.url, { timeoutMs: 100, maxRetries: 1 }).embedDocuments(['a']).catch((e) => e);
    expect(err.code).toBe('EMBEDDER_TIMEOUT');
    expect(err.message).toBe('DashScope did not answer within 100 ms. (gave up after 2 attempts)');
  });

  test.each([
    [{ status: 200, raw: '<html>gateway</html>' }, 'DashScope answered HTTP 200 with a body that is not JSON.'],
    [{ status: 200, body: { output: {} } }, 'DashScope returned a malformed response: expected output.embeddings with 1 entries, got undefined.'],
    [{ status: 200, body: { output: { embeddings: [{ text_index: 5, sparse_embedding: [] }] } } }, 'DashScope returned a malformed response: an embedding has an invalid text_index 5.'],
    [{ status: 200, body: { output: { embeddings: [{ text_index: 0, sparse_embedding: [{ index: 1, value: 'NaN' }] }] } } }, 'DashScope returned a malformed response: embedding 0: Sparse vector weight NaN at entry 0 is not a finite number..'],
    [{ status: 200, body: { output: { embeddings: [{ text_index: 0, sparse_embedding: [{ index: -3, value: 1 }] }] } } }, 'DashScope returned a malformed response: embedding 0: Sparse vector index -3 at entry 0 is not a non-negative integer..'],
  ])('malformed body %j -> clear error', async (step, message) => {
    server = await startFakeEmbeddingServer({ flavor: 'qwen', script: [step] });
    const err = await qwen(server.url).embedDocuments(['a']).catch((e) => e);
    expect(err.code).toBe('EMBEDDER_BAD_RESPONSE');
    expect(err.message).toBe(message);
  });

  test('network error: nothing listens on the port', async () => {
    const closed = await startFakeEmbeddingServer({ flavor: 'qwen' });
    await closed.close();
    const err = await qwen(closed.url, { maxRetries: 1 }).embedDocuments(['a']).catch((e) => e);
    expect(err.code).toBe('EMBEDDER_NETWORK');
    expect(err.message).toBe(`Could not reach DashScope at ${closed.url}: ECONNREFUSED. (gave up after 2 attempts)`);
  });

  test('Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('tei provider against a text-embeddings-inference peer', () => {
  let server: FakeEmbeddingServer;
  afterEach(async () => server?.close());

  test('POST /embed_sparse with inputs, batching, vectors per input', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'tei' });
    const e = new TeiSparseEmbedder({ provider: 'tei', baseUrl: server.url + '/', batchSize: 4, backoffBaseMs: 5 });
    const texts = ['one fish', 'two fish', 'red fish', 'blue fish', 'old fish'];
    const v = await e.embedDocuments(texts);
    expect(server.requests.map((r) => r.body)).toEqual([{ inputs: texts.slice(0, 4), truncate: true }, { inputs: texts.slice(4), truncate: true }]);
    expect(sparseEquals(v[2], new LocalSparseEmbedder().embed('red fish', 'document'))).toBe(true);
  });

  test('errors: 503 retried then reported; 413 not retried', async () => {
    server = await startFakeEmbeddingServer({ flavor: 'tei', script: [{ status: 413, body: { error: 'batch size 64 > maximum allowed batch size 32', error_type: 'Validation' } }] });
    const e = new TeiSparseEmbedder({ provider: 'tei', baseUrl: server.url, backoffBaseMs: 5, maxRetries: 2 });
    const err = await e.embedDocuments(['a']).catch((x) => x);
    expect(err.message).toBe('text-embeddings-inference answered HTTP 413: Validation: batch size 64 > maximum allowed batch size 32.');
    expect(server.requests).toHaveLength(1);
  });
});

describe('embedder configuration', () => {
  test('from env: provider, key fallback, aliases', () => {
    expect(embedderConfigFromEnv({})).toMatchObject({ provider: 'local' });
    expect(embedderConfigFromEnv({ SPARSE_EMBEDDER_PROVIDER: 'qwen', DASHSCOPE_API_KEY: KEY, SPARSE_EMBEDDING_BASE_URL: 'https://dashscope.aliyuncs.com', SPARSE_EMBEDDER_DIMS: '1536' })).toMatchObject({
      provider: 'qwen',
      apiKey: KEY,
      baseUrl: 'https://dashscope.aliyuncs.com',
      dims: 1536,
    });
  });

  test("from the guide's object shape", () => {
    const c = embedderConfigFromObject({ sparse_embedder: { provider: 'qwen', config: { api_key: KEY, model: 'text-embedding-v4' } } });
    expect(c).toMatchObject({ provider: 'qwen', apiKey: KEY, model: 'text-embedding-v4' });
    expect(createEmbedder(c)).toBeInstanceOf(QwenSparseEmbedder);
  });

  test.each([
    [{ SPARSE_EMBEDDER_PROVIDER: 'openai' }, 'Unknown sparse embedder provider "openai".', 'Set SPARSE_EMBEDDER_PROVIDER to one of: local, qwen, tei.'],
    [{ SPARSE_EMBEDDER_PROVIDER: 'qwen' }, 'The qwen sparse embedder needs an API key.', 'Set SPARSE_EMBEDDER_API_KEY or DASHSCOPE_API_KEY'],
    [{ SPARSE_EMBEDDER_PROVIDER: 'qwen', SPARSE_EMBEDDER_API_KEY: KEY, SPARSE_EMBEDDER_DIMS: '4096' }, 'SPARSE_EMBEDDER_DIMS=4096 is out of range for DashScope text-embedding-v4.', 'Use a dimension from 64 to 2048'],
    [{ SPARSE_EMBEDDER_DIMS: 'lots' }, 'SPARSE_EMBEDDER_DIMS="lots" is not an integer between 1 and 1000000.', 'whole number'],
    [{ SPARSE_EMBEDDER_PROVIDER: 'tei' }, 'The tei sparse embedder needs the URL of a text-embeddings-inference server.', 'SPARSE_EMBEDDER_BASE_URL'],
    [{ SPARSE_EMBEDDER_BASE_URL: 'ftp://x' }, 'SPARSE_EMBEDDER_BASE_URL="ftp://x" is not an http(s) URL.', 'https://'],
  ])('%j -> %s', (env, message, hint) => {
    try {
      embedderConfigFromEnv(env);
      throw new Error('no error');
    } catch (e) {
      expect((e as Error).message).toBe(message);
      expect((e as { hint?: string }).hint).toContain(hint);
      expect((e as { code?: string }).code).toBe('EMBEDDER_CONFIG');
    }
  });
});
