import { SparseVectorError } from '../../src/errors';
import {
  createEmbedder,
  EMBEDDER_PROVIDERS,
  LocalSparseEmbedder,
  PROVIDERS,
  QwenSparseEmbedder,
  TeiSparseEmbedder,
} from '../../src/embedders';
import { embedderConfigFromEnv, embedderConfigFromObject } from '../../src/embedders/config';
import { redact } from '../../src/util/redact';

const KEY = 'sk-config-test-0a1b2c3d';

function configError(f: () => unknown): SparseVectorError {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SparseVectorError);
  expect((error as SparseVectorError).code).toBe('EMBEDDER_CONFIG');
  return error as SparseVectorError;
}

describe('embedderConfigFromEnv', () => {
  test('unset or empty provider -> local; names are case-insensitive', () => {
    expect(embedderConfigFromEnv({})).toEqual({ provider: 'local' });
    expect(embedderConfigFromEnv({ SPARSE_EMBEDDER_PROVIDER: '' })).toEqual({ provider: 'local' });
    expect(embedderConfigFromEnv({ SPARSE_EMBEDDER_PROVIDER: '  ' })).toEqual({ provider: 'local' });
    expect(embedderConfigFromEnv({ SPARSE_EMBEDDER_PROVIDER: 'QWEN', SPARSE_EMBEDDER_API_KEY: KEY }).provider).toBe(
      'qwen',
    );
  });

  test('every variable, with the key and base URL aliases', () => {
    expect(
      embedderConfigFromEnv({
        SPARSE_EMBEDDER_PROVIDER: 'qwen',
        DASHSCOPE_API_KEY: KEY,
        SPARSE_EMBEDDER_MODEL: 'text-embedding-v4',
        SPARSE_EMBEDDER_DIMS: '1536',
        SPARSE_EMBEDDING_BASE_URL: 'https://dashscope.aliyuncs.com',
        SPARSE_EMBEDDER_TIMEOUT_MS: '10000',
        SPARSE_EMBEDDER_MAX_RETRIES: '0',
        SPARSE_EMBEDDER_BACKOFF_BASE_MS: '250',
      }),
    ).toEqual({
      provider: 'qwen',
      apiKey: KEY,
      model: 'text-embedding-v4',
      dims: 1536,
      baseUrl: 'https://dashscope.aliyuncs.com',
      timeoutMs: 10000,
      maxRetries: 0,
      backoffBaseMs: 250,
    });
    // The SPARSE_EMBEDDER_* names win over the aliases.
    expect(
      embedderConfigFromEnv({
        SPARSE_EMBEDDER_PROVIDER: 'qwen',
        SPARSE_EMBEDDER_API_KEY: KEY,
        DASHSCOPE_API_KEY: 'other-key',
        SPARSE_EMBEDDER_BASE_URL: 'https://a.example',
        SPARSE_EMBEDDING_BASE_URL: 'https://b.example',
      }),
    ).toMatchObject({ apiKey: KEY, baseUrl: 'https://a.example' });
    expect(embedderConfigFromEnv({ SPARSE_EMBEDDER_INDEX_SPACE: '1000' })).toEqual({
      provider: 'local',
      indexSpace: 1000,
    });
    // powermem's own names: SPARSE_EMBEDDER_EMBEDDING_DIMS, and DASHSCOPE_BASE_URL for qwen only.
    expect(
      embedderConfigFromEnv({
        SPARSE_EMBEDDER_PROVIDER: 'qwen',
        DASHSCOPE_API_KEY: KEY,
        SPARSE_EMBEDDER_EMBEDDING_DIMS: '768',
        DASHSCOPE_BASE_URL: 'https://dashscope.aliyuncs.com/api/v1',
      }),
    ).toEqual({
      provider: 'qwen',
      apiKey: KEY,
      dims: 768,
      baseUrl: 'https://dashscope.aliyuncs.com/api/v1',
    });
    expect(
      configError(() =>
        embedderConfigFromEnv({
          SPARSE_EMBEDDER_PROVIDER: 'tei',
          DASHSCOPE_BASE_URL: 'https://dashscope.aliyuncs.com/api/v1',
        }),
      ).message,
    ).toBe('The tei sparse embedder needs the URL of a text-embeddings-inference server.');
    expect(
      embedderConfigFromEnv({
        SPARSE_EMBEDDER_PROVIDER: 'tei',
        SPARSE_EMBEDDER_BASE_URL: 'http://127.0.0.1:8080',
        SPARSE_EMBEDDER_BATCH_SIZE: '8',
      }),
    ).toEqual({
      provider: 'tei',
      baseUrl: 'http://127.0.0.1:8080',
      batchSize: 8,
    });
  });

  test('createEmbedder holds a hand-built config to the same rules (SparseVectorError, the field named)', () => {
    expect(() => createEmbedder({ provider: 'local', indexSpace: 0 })).toThrow(
      'indexSpace="0" is not an integer from 1 to 4294967296.',
    );
    expect(() => createEmbedder({ provider: 'qwen', apiKey: 'sk-x1234567', timeoutMs: -5 })).toThrow(
      'timeoutMs="-5" is not an integer from 1 to 3600000.',
    );
    expect(() => createEmbedder({ provider: 'nope' as never })).toThrow(SparseVectorError);
    expect(createEmbedder({ provider: 'local', indexSpace: 1000 }).maxIndex).toBe(999);
  });

  test('SPARSE_EMBEDDER_THREADS: auto, a number, or 0', () => {
    expect(embedderConfigFromEnv({ SPARSE_EMBEDDER_THREADS: 'AUTO' }).threads).toBe('auto');
    expect(embedderConfigFromEnv({ SPARSE_EMBEDDER_THREADS: '2' }).threads).toBe(2);
    expect(embedderConfigFromEnv({ SPARSE_EMBEDDER_THREADS: '0' }).threads).toBe(0);
    expect(embedderConfigFromEnv({}).threads).toBeUndefined();
  });

  test('API keys are registered as secrets', () => {
    embedderConfigFromEnv({ SPARSE_EMBEDDER_PROVIDER: 'qwen', DASHSCOPE_API_KEY: 'sk-registered-by-config-42' });
    expect(redact('key=sk-registered-by-config-42!')).toBe('key=****!');
  });

  test.each([
    [
      { SPARSE_EMBEDDER_PROVIDER: 'openai' },
      'Unknown sparse embedder provider "openai".',
      'Set SPARSE_EMBEDDER_PROVIDER to one of: local, qwen, tei.',
    ],
    [
      { SPARSE_EMBEDDER_PROVIDER: 'qwen' },
      'The qwen sparse embedder needs an API key.',
      'Set SPARSE_EMBEDDER_API_KEY or DASHSCOPE_API_KEY, or use SPARSE_EMBEDDER_PROVIDER=local (no key needed).',
    ],
    [
      { SPARSE_EMBEDDER_PROVIDER: 'qwen', SPARSE_EMBEDDER_API_KEY: KEY, SPARSE_EMBEDDER_DIMS: '4096' },
      'SPARSE_EMBEDDER_DIMS=4096 is not a dimension DashScope text-embedding-v4 offers.',
      'Use one of 2048, 1536, 1024, 768, 512, 256, 128, 64 (default 1536, as powermem).',
    ],
    [
      { SPARSE_EMBEDDER_PROVIDER: 'qwen', SPARSE_EMBEDDER_API_KEY: KEY, SPARSE_EMBEDDER_DIMS: '1000' },
      'SPARSE_EMBEDDER_DIMS=1000 is not a dimension DashScope text-embedding-v4 offers.',
      'Use one of 2048, 1536, 1024, 768, 512, 256, 128, 64 (default 1536, as powermem).',
    ],
    [
      { SPARSE_EMBEDDER_DIMS: 'lots' },
      'SPARSE_EMBEDDER_DIMS="lots" is not an integer from 1 to 1000000.',
      'Use a whole number; for qwen (DashScope text-embedding-v4) one of 2048, 1536, 1024, 768, 512, 256, 128, 64 (default 1536, as powermem).',
    ],
    [
      { SPARSE_EMBEDDER_THREADS: 'many' },
      'SPARSE_EMBEDDER_THREADS="many" is not an integer from 0 to 64.',
      "Use 'auto' (one per spare core, at most 4; the default), 0 (embed in the main thread) or a number of threads up to 64.",
    ],
    [
      { SPARSE_EMBEDDER_DIMS: '1024.5' },
      'SPARSE_EMBEDDER_DIMS="1024.5" is not an integer from 1 to 1000000.',
      'Use a whole number; for qwen (DashScope text-embedding-v4) one of 2048, 1536, 1024, 768, 512, 256, 128, 64 (default 1536, as powermem).',
    ],
    [
      { SPARSE_EMBEDDER_PROVIDER: 'tei' },
      'The tei sparse embedder needs the URL of a text-embeddings-inference server.',
      'Set SPARSE_EMBEDDER_BASE_URL, e.g. http://127.0.0.1:8080.',
    ],
    [
      { SPARSE_EMBEDDER_BASE_URL: 'dashscope.aliyuncs.com' },
      'SPARSE_EMBEDDER_BASE_URL="dashscope.aliyuncs.com" is not an http(s) URL.',
      'Use e.g. https://dashscope-intl.aliyuncs.com (qwen) or http://127.0.0.1:8080 (tei).',
    ],
    [
      { SPARSE_EMBEDDING_BASE_URL: 'ftp://x' },
      'SPARSE_EMBEDDING_BASE_URL="ftp://x" is not an http(s) URL.',
      'Use e.g. https://dashscope-intl.aliyuncs.com (qwen) or http://127.0.0.1:8080 (tei).',
    ],
    [
      { SPARSE_EMBEDDER_TIMEOUT_MS: '-5' },
      'SPARSE_EMBEDDER_TIMEOUT_MS="-5" is not an integer from 1 to 3600000.',
      'Use a whole number of milliseconds, e.g. 30000 (the default).',
    ],
    [
      { SPARSE_EMBEDDER_TIMEOUT_MS: '30s' },
      'SPARSE_EMBEDDER_TIMEOUT_MS="30s" is not an integer from 1 to 3600000.',
      'Use a whole number of milliseconds, e.g. 30000 (the default).',
    ],
    [
      { SPARSE_EMBEDDER_MAX_RETRIES: '-1' },
      'SPARSE_EMBEDDER_MAX_RETRIES="-1" is not a non-negative integer.',
      'Use a whole number >= 0, e.g. 5 (the default); 0 disables retries.',
    ],
    [
      { SPARSE_EMBEDDER_MAX_RETRIES: '2.5' },
      'SPARSE_EMBEDDER_MAX_RETRIES="2.5" is not a non-negative integer.',
      'Use a whole number >= 0, e.g. 5 (the default); 0 disables retries.',
    ],
    [
      { SPARSE_EMBEDDER_INDEX_SPACE: '0' },
      'SPARSE_EMBEDDER_INDEX_SPACE="0" is not an integer from 1 to 4294967296.',
      'Use the number of hash buckets, e.g. 500000 (the default; OceanBase/seekdb reject indices above 500,000).',
    ],
  ])('%j -> %s', (env, message, hint) => {
    const e = configError(() => embedderConfigFromEnv(env));
    expect(e.message).toBe(message);
    expect(e.hint).toBe(hint);
  });

  test('a password in a base URL is not echoed', () => {
    const e = configError(() =>
      embedderConfigFromEnv({ SPARSE_EMBEDDER_BASE_URL: 'ftp://admin:hunter2secret@example.com' }),
    );
    expect(e.message).toBe('SPARSE_EMBEDDER_BASE_URL="ftp://admin:****@example.com" is not an http(s) URL.');
  });

  test('a key with a line break is rejected without echoing the key', () => {
    const e = configError(() =>
      embedderConfigFromEnv({ SPARSE_EMBEDDER_PROVIDER: 'qwen', SPARSE_EMBEDDER_API_KEY: 'sk-abc\ndef-123' }),
    );
    expect(e.message).toBe('SPARSE_EMBEDDER_API_KEY contains whitespace or control characters.');
    expect(`${e.message} ${e.hint} ${e.stack}`).not.toContain('sk-abc');
  });
});

describe('embedderConfigFromObject', () => {
  test("powermem's guide shape, with embedding_dims or dims", () => {
    const c = embedderConfigFromObject({
      sparse_embedder: {
        provider: 'qwen',
        config: {
          api_key: KEY,
          model: 'text-embedding-v4',
          embedding_dims: 1536,
          base_url: 'https://dashscope.aliyuncs.com',
        },
      },
    });
    expect(c).toEqual({
      provider: 'qwen',
      apiKey: KEY,
      model: 'text-embedding-v4',
      dims: 1536,
      baseUrl: 'https://dashscope.aliyuncs.com',
    });
    expect(createEmbedder(c)).toBeInstanceOf(QwenSparseEmbedder);
    expect(
      embedderConfigFromObject({
        sparse_embedder: { provider: 'qwen', config: { api_key: KEY, dims: '512', timeout_ms: 5000, max_retries: 2 } },
      }),
    ).toEqual({
      provider: 'qwen',
      apiKey: KEY,
      dims: 512,
      timeoutMs: 5000,
      maxRetries: 2,
    });
    expect(embedderConfigFromObject({ sparse_embedder: { provider: 'local' } })).toEqual({ provider: 'local' });
  });

  test('camelCase shape', () => {
    expect(
      embedderConfigFromObject({
        provider: 'tei',
        baseUrl: 'http://127.0.0.1:8080',
        batchSize: 16,
        apiKey: 'tei-key-1',
      }),
    ).toEqual({
      provider: 'tei',
      baseUrl: 'http://127.0.0.1:8080',
      batchSize: 16,
      apiKey: 'tei-key-1',
    });
    expect(embedderConfigFromObject({})).toEqual({ provider: 'local' });
    expect(
      createEmbedder(embedderConfigFromObject({ provider: 'tei', baseUrl: 'http://127.0.0.1:8080' })),
    ).toBeInstanceOf(TeiSparseEmbedder);
  });

  test('messages name the keys as written in the object', () => {
    expect(
      configError(() =>
        embedderConfigFromObject({
          sparse_embedder: { provider: 'qwen', config: { api_key: KEY, embedding_dims: 4096 } },
        }),
      ).message,
    ).toBe('sparse_embedder.config.embedding_dims=4096 is not a dimension DashScope text-embedding-v4 offers.');
    expect(
      configError(() => embedderConfigFromObject({ sparse_embedder: { provider: 'qwen', config: {} } })).hint,
    ).toBe(
      'Set sparse_embedder.config.api_key (or the SPARSE_EMBEDDER_API_KEY / DASHSCOPE_API_KEY environment variable), or use the local provider.',
    );
    expect(configError(() => embedderConfigFromObject({ sparse_embedder: { provider: 'bm25' } })).hint).toBe(
      'Set sparse_embedder.provider to one of: local, qwen, tei.',
    );
    expect(configError(() => embedderConfigFromObject({ provider: 'tei' })).hint).toBe(
      'Set baseUrl, e.g. http://127.0.0.1:8080.',
    );
    expect(configError(() => embedderConfigFromObject({ provider: 'local', timeoutMs: 'soon' })).message).toBe(
      'timeoutMs="soon" is not an integer from 1 to 3600000.',
    );
    expect(configError(() => embedderConfigFromObject({ sparse_embedder: 'qwen' })).message).toBe(
      'sparse_embedder must be an object.',
    );
  });
});

describe('provider registry', () => {
  test('every registered provider is accepted by name and creates an embedder reporting that name', () => {
    expect(EMBEDDER_PROVIDERS).toEqual(['local', 'qwen', 'tei']);
    const settings = { apiKey: KEY, baseUrl: 'http://127.0.0.1:9' };
    for (const p of PROVIDERS) {
      const config = embedderConfigFromObject({ provider: p.name, ...settings });
      const e = createEmbedder(config);
      expect(e.provider).toBe(p.name);
      expect(e.maxBatchSize).toBeGreaterThan(0);
      expect(e.maxIndex).toBeGreaterThan(0);
    }
    expect(createEmbedder({ provider: 'local' })).toBeInstanceOf(LocalSparseEmbedder);
  });
});
