import { SvmError } from '../errors';
import { registerSecret } from '../util/redact';
import type { EmbedderConfig, EmbedderProvider } from './types';

/** Providers accepted by SPARSE_EMBEDDER_PROVIDER / sparse_embedder.provider. */
export const EMBEDDER_PROVIDERS: readonly EmbedderProvider[] = ['local', 'qwen', 'tei'];

type Source = Record<string, unknown>;

function fail(message: string, hint: string): never {
  throw new SvmError('EMBEDDER_CONFIG', message, { hint });
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return String(v).trim() || undefined;
}

function int(v: unknown, name: string, range: { min: number; max: number }, hint: string): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = /^[+-]?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    fail(`${name}=${JSON.stringify(s)} is not an integer between ${range.min} and ${range.max}.`, hint);
  }
  return n;
}

/** Validate a raw provider + settings into an EmbedderConfig (names in messages are the env variables). */
function build(raw: {
  provider?: unknown;
  apiKey?: unknown;
  model?: unknown;
  dims?: unknown;
  baseUrl?: unknown;
  timeoutMs?: unknown;
  maxRetries?: unknown;
  indexSpace?: unknown;
  backoffBaseMs?: unknown;
  batchSize?: unknown;
}): EmbedderConfig {
  const providerText = (str(raw.provider) ?? 'local').toLowerCase();
  if (!(EMBEDDER_PROVIDERS as readonly string[]).includes(providerText)) {
    fail(`Unknown sparse embedder provider ${JSON.stringify(str(raw.provider))}.`, `Set SPARSE_EMBEDDER_PROVIDER to one of: ${EMBEDDER_PROVIDERS.join(', ')}.`);
  }
  const provider = providerText as EmbedderProvider;
  const apiKey = str(raw.apiKey);
  registerSecret(apiKey);
  const baseUrl = str(raw.baseUrl);
  if (baseUrl !== undefined) {
    try {
      const u = new URL(baseUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      fail(`SPARSE_EMBEDDER_BASE_URL=${JSON.stringify(baseUrl)} is not an http(s) URL.`, 'Use e.g. https://dashscope-intl.aliyuncs.com or http://127.0.0.1:8080.');
    }
  }
  const config: EmbedderConfig = {
    provider,
    apiKey,
    model: str(raw.model),
    baseUrl,
    dims: int(raw.dims, 'SPARSE_EMBEDDER_DIMS', { min: 1, max: 1_000_000 }, 'Set SPARSE_EMBEDDER_DIMS to a whole number.'),
    timeoutMs: int(raw.timeoutMs, 'SPARSE_EMBEDDER_TIMEOUT_MS', { min: 1, max: 3_600_000 }, 'Set SPARSE_EMBEDDER_TIMEOUT_MS to milliseconds, e.g. 30000.'),
    maxRetries: int(raw.maxRetries, 'SPARSE_EMBEDDER_MAX_RETRIES', { min: 0, max: 100 }, 'Set SPARSE_EMBEDDER_MAX_RETRIES to a whole number, e.g. 5.'),
    indexSpace: int(raw.indexSpace, 'SPARSE_EMBEDDER_INDEX_SPACE', { min: 1, max: 0x1_0000_0000 }, 'Set SPARSE_EMBEDDER_INDEX_SPACE to the number of hash buckets, e.g. 500000.'),
    backoffBaseMs: int(raw.backoffBaseMs, 'backoffBaseMs', { min: 0, max: 600_000 }, 'Use milliseconds.'),
    batchSize: int(raw.batchSize, 'SPARSE_EMBEDDER_BATCH_SIZE', { min: 1, max: 10_000 }, 'Set SPARSE_EMBEDDER_BATCH_SIZE to a whole number.'),
  };
  if (provider === 'qwen') {
    if (!apiKey) fail('The qwen sparse embedder needs an API key.', 'Set SPARSE_EMBEDDER_API_KEY or DASHSCOPE_API_KEY (a DashScope key), or use SPARSE_EMBEDDER_PROVIDER=local.');
    if (config.dims !== undefined && (config.dims < 64 || config.dims > 2048)) {
      fail(`SPARSE_EMBEDDER_DIMS=${config.dims} is out of range for DashScope text-embedding-v4.`, 'Use a dimension from 64 to 2048 (default 1024).');
    }
  }
  if (provider === 'tei' && !baseUrl) {
    fail('The tei sparse embedder needs the URL of a text-embeddings-inference server.', 'Set SPARSE_EMBEDDER_BASE_URL, e.g. http://127.0.0.1:8080.');
  }
  return config;
}

/** From environment variables (powermem's names; SPARSE_EMBEDDING_BASE_URL is an alias). */
export function embedderConfigFromEnv(env: Record<string, string | undefined> = process.env): EmbedderConfig {
  return build({
    provider: env.SPARSE_EMBEDDER_PROVIDER,
    apiKey: env.SPARSE_EMBEDDER_API_KEY || env.DASHSCOPE_API_KEY,
    model: env.SPARSE_EMBEDDER_MODEL,
    dims: env.SPARSE_EMBEDDER_DIMS,
    baseUrl: env.SPARSE_EMBEDDER_BASE_URL || env.SPARSE_EMBEDDING_BASE_URL,
    timeoutMs: env.SPARSE_EMBEDDER_TIMEOUT_MS,
    maxRetries: env.SPARSE_EMBEDDER_MAX_RETRIES,
    indexSpace: env.SPARSE_EMBEDDER_INDEX_SPACE,
    batchSize: env.SPARSE_EMBEDDER_BATCH_SIZE,
  });
}

/**
 * From an object: powermem's `{ sparse_embedder: { provider, config: { api_key, model, embedding_dims, base_url } } }`
 * or the camelCase `{ provider, apiKey, model, dims, baseUrl, ... }`.
 */
export function embedderConfigFromObject(obj: Source): EmbedderConfig {
  const se = obj.sparse_embedder as Source | undefined;
  if (se && typeof se === 'object') {
    const c = (se.config ?? {}) as Source;
    return build({
      provider: se.provider,
      apiKey: c.api_key ?? c.apiKey,
      model: c.model,
      dims: c.embedding_dims ?? c.dims ?? c.dimension,
      baseUrl: c.base_url ?? c.baseUrl ?? c.dashscope_base_url,
      timeoutMs: c.timeout_ms ?? c.timeoutMs,
      maxRetries: c.max_retries ?? c.maxRetries,
      indexSpace: c.index_space ?? c.indexSpace,
      backoffBaseMs: c.backoff_base_ms ?? c.backoffBaseMs,
      batchSize: c.batch_size ?? c.batchSize,
    });
  }
  return build(obj);
}
