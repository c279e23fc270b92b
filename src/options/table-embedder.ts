import { EMBEDDER_PROVIDERS } from '../embedders/provider-names';
import { SPARSE_INDEX_LIMIT } from '../sparse/sparse-vector';
import type { OptionSpec } from './spec';

/**
 * The sparse embedder's settings: the part of the option table (src/options/table.ts) that
 * src/embedders/config.ts reads from the environment and from powermem's `sparse_embedder.config` object.
 * A separate file only to keep each under 300 lines; table.ts re-exports it and lists it in OPTIONS.
 * Defaults that belong to one provider (qwen's model and base URL) are its `providerDefaults`; the
 * texts per request that a provider fixes (qwen 10, local 256) are not settings and stay in its module.
 */

/** powermem's qwen sparse embedder defaults (powermem 1.1.x, qwen_sparse.py): same model, dimension and base. */
const QWEN_MODEL = 'text-embedding-v4';
const QWEN_DIMS = 1536;
const QWEN_BASE_URL = 'https://dashscope.aliyuncs.com/api/v1';
const QWEN_DIMENSIONS = '2048, 1536, 1024, 768, 512, 256, 128, 64';
const TIMEOUT_MS = 30_000;
const MAX_RETRIES = 5;
const BACKOFF_BASE_MS = 500;
/** TEI's own default --max-client-batch-size. */
const TEI_BATCH = 32;
const RPM_EXAMPLE = 1200;

/** camelCase -> snake_case: timeoutMs -> timeout_ms. */
const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A setting whose names all follow from its camelCase API name: the variable SPARSE_EMBEDDER_ and the name in
 * capitals, the object keys powermem's snake_case then the camelCase name (timeoutMs: SPARSE_EMBEDDER_TIMEOUT_MS,
 * timeout_ms, timeoutMs).
 */
function named<const R extends Omit<OptionSpec, 'name' | 'env' | 'keys'>>(name: string, row: R) {
  const snake = snakeCase(name);
  return { name, env: `SPARSE_EMBEDDER_${snake.toUpperCase()}`, keys: [snake, name], ...row };
}

export const EMBEDDER = {
  provider: {
    name: 'provider',
    env: 'SPARSE_EMBEDDER_PROVIDER',
    keys: ['provider'],
    type: 'choice',
    choices: EMBEDDER_PROVIDERS,
    default: 'local',
    help: 'The sparse embedder: local (in-process, no key, no network), qwen (DashScope text-embedding-v4) or tei (text-embeddings-inference); see docs/embedders.md.',
  },
  apiKey: named('apiKey', {
    aliases: ['DASHSCOPE_API_KEY'],
    type: 'string',
    defaultText: 'none',
    help: 'API key: required for qwen, an optional Bearer token for tei.',
  }),
  model: {
    name: 'model',
    env: 'SPARSE_EMBEDDER_MODEL',
    keys: ['model'],
    type: 'string',
    providerDefaults: { qwen: QWEN_MODEL },
    defaultText: `qwen: ${QWEN_MODEL}`,
    help: 'The model: for qwen a DashScope embedding model; for tei a name recorded for the vectors (without one, the server URL is).',
  },
  dims: {
    name: 'dims',
    env: 'SPARSE_EMBEDDER_DIMS',
    aliases: ['SPARSE_EMBEDDER_EMBEDDING_DIMS'],
    keys: ['embedding_dims', 'dims', 'dimension'],
    type: 'int',
    range: { min: 1, max: 1_000_000 },
    default: QWEN_DIMS,
    help: `qwen: the output dimension, one of ${QWEN_DIMENSIONS} for text-embedding-v4 (the default is powermem's).`,
    hint: `Use a whole number; for qwen (DashScope ${QWEN_MODEL}) one of ${QWEN_DIMENSIONS} (default ${QWEN_DIMS}, as powermem).`,
  },
  baseUrl: {
    name: 'baseUrl',
    env: 'SPARSE_EMBEDDER_BASE_URL',
    aliases: ['SPARSE_EMBEDDING_BASE_URL'],
    providerAliases: { qwen: ['DASHSCOPE_BASE_URL'] },
    keys: ['base_url', 'baseUrl', 'dashscope_base_url'],
    type: 'string',
    providerDefaults: { qwen: QWEN_BASE_URL },
    defaultText: `qwen: ${QWEN_BASE_URL}`,
    help: 'The service: for qwen the DashScope host (mainland by default, as powermem; international https://dashscope-intl.aliyuncs.com); for tei the server URL (required), e.g. http://127.0.0.1:8080.',
    hint: 'Use e.g. https://dashscope-intl.aliyuncs.com (qwen) or http://127.0.0.1:8080 (tei).',
  },
  timeoutMs: named('timeoutMs', {
    type: 'int',
    range: { min: 1, max: 3_600_000 },
    default: TIMEOUT_MS,
    help: 'HTTP embedders (qwen, tei): milliseconds an attempt may take.',
    hint: `Use a whole number of milliseconds, e.g. ${TIMEOUT_MS} (the default).`,
  }),
  maxRetries: named('maxRetries', {
    type: 'int',
    range: { min: 0, max: 100 },
    default: MAX_RETRIES,
    help: 'HTTP embedders: retries of a request after 408, 429, 5xx, a network error or a timeout (0: none).',
    hint: `Use a whole number >= 0, e.g. ${MAX_RETRIES} (the default); 0 disables retries.`,
  }),
  backoffBaseMs: named('backoffBaseMs', {
    type: 'int',
    range: { min: 0, max: 600_000 },
    default: BACKOFF_BASE_MS,
    help: 'HTTP embedders: base of the exponential backoff between retries, in milliseconds (full jitter).',
    hint: `Use a whole number of milliseconds >= 0, e.g. ${BACKOFF_BASE_MS} (the default).`,
  }),
  maxRequestsPerMinute: {
    name: 'maxRequestsPerMinute',
    env: 'SPARSE_EMBEDDER_RPM',
    keys: ['max_requests_per_minute', 'maxRequestsPerMinute', 'rpm'],
    flag: '--max-requests-per-minute',
    type: 'int',
    range: { min: 1, max: 10_000_000 },
    defaultText: 'no cap',
    example: RPM_EXAMPLE,
    argument: 'N',
    help: 'HTTP embedders (qwen, tei): start at most N requests per minute, to stay under a known quota (default: no cap; 429 answers slow the pace anyway).',
    hint: `Use the provider's quota in requests per minute, e.g. ${RPM_EXAMPLE}; leave it unset for no cap (429s still slow the run down).`,
  },
  batchSize: named('batchSize', {
    type: 'int',
    range: { min: 1, max: 10_000 },
    default: TEI_BATCH,
    help: "tei: texts per request (TEI's default --max-client-batch-size; qwen sends the model's 10, local embeds 256 at a time).",
    hint: `Use a whole number of texts per request, e.g. ${TEI_BATCH} (the tei default).`,
  }),
  indexSpace: named('indexSpace', {
    type: 'int',
    range: { min: 1, max: 2 ** 32 },
    default: SPARSE_INDEX_LIMIT,
    help: `local: hash buckets, the vectors' indices are in [0, N); OceanBase/seekdb's sparse index takes at most ${SPARSE_INDEX_LIMIT}.`,
    hint: `Use the number of hash buckets, e.g. ${SPARSE_INDEX_LIMIT} (the default; OceanBase/seekdb reject indices above 500,000).`,
  }),
  threads: {
    name: 'threads',
    env: 'SPARSE_EMBEDDER_THREADS',
    keys: ['threads'],
    type: 'int',
    range: { min: 0, max: 64 },
    default: 'auto',
    help: 'local: worker threads for document batches; auto = one per spare core (at most 4) with 4 or more cores, none below; 0 = the main thread. A thread costs ~100 MB (docs/benchmarks.md).',
    hint: "Use 'auto' (one per spare core, at most 4; the default), 0 (embed in the main thread) or a number of threads up to 64.",
  },
} as const satisfies Record<string, OptionSpec>;
