import { integerText } from '../config/parse';
import { SparseVectorError } from '../errors';
import { EMBEDDER, type OptionSpec } from '../options/table';
import { redact, registerSecret } from '../util/redact';
import { EMBEDDER_PROVIDERS, findProvider } from './providers';
import type { ConfigCheck, EmbedderConfig } from './types';

export { EMBEDDER_PROVIDERS };

type Field = keyof EmbedderConfig;

/** A raw setting and the name the user knows it by (for messages). */
interface RawSetting {
  value: unknown;
  name: string;
}
type RawSettings = Partial<Record<Field, RawSetting>>;

/** Each setting's row of the option table (src/options/table-embedder.ts): names, range, default, hint. */
const SPECS: Record<Field, OptionSpec> & typeof EMBEDDER = EMBEDDER;
const FIELDS = Object.keys(SPECS) as Field[];

/**
 * Environment variables of each setting, first set one wins: the table's variable, then its aliases
 * (powermem's names: DASHSCOPE_API_KEY, SPARSE_EMBEDDER_EMBEDDING_DIMS, SPARSE_EMBEDDING_BASE_URL).
 * A provider's own aliases (qwen: DASHSCOPE_BASE_URL) are read below, for that provider only.
 */
const envNames = (field: Field): readonly string[] => [SPECS[field].env, ...(SPECS[field].aliases ?? [])];

/** Keys of powermem's `sparse_embedder.config` (first match wins), and camelCase keys. */
const objectKeys = (field: Field): readonly string[] => SPECS[field].keys;

/** The whole-number settings, with their table range and the fix their error suggests. */
const INTEGER_FIELDS = [
  'dims',
  'timeoutMs',
  'maxRetries',
  'backoffBaseMs',
  'batchSize',
  'indexSpace',
  'maxRequestsPerMinute',
] as const;

interface IntegerRange {
  min: number;
  max: number;
  hint: string;
}

const integerRange = (field: Field): IntegerRange => ({ ...SPECS[field].range!, hint: SPECS[field].hint! });

function fail(message: string, hint: string): never {
  // redact(): a base URL may carry a password (https://user:pass@host), a value may be a registered key.
  throw new SparseVectorError('EMBEDDER_CONFIG', redact(message), { hint: redact(hint) });
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = scalarText(v).trim();
  return s === '' ? undefined : s;
}

/** A setting's value as text: scalars as written, objects as JSON (so an error can show what was given). */
function scalarText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'object':
      return JSON.stringify(v);
    default:
      return '';
  }
}

function integer(setting: RawSetting | undefined, range: IntegerRange): number | undefined {
  if (setting === undefined) return undefined;
  const v = setting.value;
  const s = typeof v === 'number' ? String(v) : text(v);
  if (s === undefined) return undefined;
  const n = integerText(s);
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    const what =
      range.min === 0 && range.max >= 100 ? 'a non-negative integer' : `an integer from ${range.min} to ${range.max}`;
    fail(`${setting.name}=${JSON.stringify(s)} is not ${what}.`, range.hint);
  }
  return n;
}

function checkBaseUrl(baseUrl: string, name: string): void {
  let ok = false;
  try {
    const u = new URL(baseUrl);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok) {
    fail(`${name}=${JSON.stringify(baseUrl)} is not an http(s) URL.`, SPECS.baseUrl.hint);
  }
}

/** Validate raw settings into an EmbedderConfig; messages use the names the settings were given. */
function build(raw: RawSettings, source: ConfigCheck['source'], defaultName: (field: Field) => string): EmbedderConfig {
  const nameOf = (field: Field): string => raw[field]?.name ?? defaultName(field);
  const providerText = text(raw.provider?.value)?.toLowerCase() ?? SPECS.provider.default;
  const definition = findProvider(providerText);
  if (!definition) {
    fail(
      `Unknown sparse embedder provider ${JSON.stringify(text(raw.provider?.value))}.`,
      `Set ${nameOf('provider')} to one of: ${EMBEDDER_PROVIDERS.join(', ')}.`,
    );
  }
  const apiKey = text(raw.apiKey?.value);
  registerSecret(apiKey);
  if (apiKey !== undefined && /[\s\u0000-\u001f\u007f]/.test(apiKey)) {
    // Never echo the key: say what is wrong with it instead.
    fail(
      `${nameOf('apiKey')} contains whitespace or control characters.`,
      'Copy the key again without spaces, quotes or line breaks.',
    );
  }
  const baseUrl = text(raw.baseUrl?.value);
  if (baseUrl !== undefined) checkBaseUrl(baseUrl, nameOf('baseUrl'));
  const config: EmbedderConfig = { provider: definition.name };
  if (apiKey !== undefined) config.apiKey = apiKey;
  const model = text(raw.model?.value);
  if (model !== undefined) config.model = model;
  if (baseUrl !== undefined) config.baseUrl = baseUrl;
  for (const field of INTEGER_FIELDS) {
    const n = integer(raw[field], integerRange(field));
    if (n !== undefined) config[field] = n;
  }
  const threads =
    raw.threads === undefined
      ? undefined
      : typeof raw.threads.value === 'number'
        ? String(raw.threads.value)
        : text(raw.threads.value);
  if (threads !== undefined) {
    if (threads.toLowerCase() === 'auto') config.threads = 'auto';
    else config.threads = integer(raw.threads, integerRange('threads'))!;
  }
  definition.validate?.(config, { nameOf, source, fail });
  return config;
}

/**
 * From environment variables: SPARSE_EMBEDDER_PROVIDER (unset or empty: local), SPARSE_EMBEDDER_API_KEY
 * (else DASHSCOPE_API_KEY), SPARSE_EMBEDDER_MODEL, SPARSE_EMBEDDER_DIMS (else SPARSE_EMBEDDER_EMBEDDING_DIMS),
 * SPARSE_EMBEDDER_BASE_URL (else powermem's SPARSE_EMBEDDING_BASE_URL, else for qwen DASHSCOPE_BASE_URL),
 * SPARSE_EMBEDDER_TIMEOUT_MS, SPARSE_EMBEDDER_MAX_RETRIES,
 * SPARSE_EMBEDDER_BACKOFF_BASE_MS, SPARSE_EMBEDDER_BATCH_SIZE, SPARSE_EMBEDDER_INDEX_SPACE,
 * SPARSE_EMBEDDER_THREADS, SPARSE_EMBEDDER_RPM.
 * Empty values count as unset. Throws SparseVectorError('EMBEDDER_CONFIG') saying what is wrong and how to fix it.
 */
export function embedderConfigFromEnv(
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
): EmbedderConfig {
  const raw: RawSettings = {};
  const provider = text(env[SPECS.provider.env])?.toLowerCase() ?? '';
  for (const field of FIELDS) {
    // A provider's own alias (DASHSCOPE_BASE_URL names a DashScope host: meaningful for qwen only) comes last.
    const names = [...envNames(field), ...(SPECS[field].providerAliases?.[provider] ?? [])];
    const name = names.find((n) => text(env[n]) !== undefined);
    if (name !== undefined) raw[field] = { value: env[name], name };
  }
  return build(raw, 'env', (field) => envNames(field)[0]);
}

/**
 * From an object: powermem's guide shape
 * `{ sparse_embedder: { provider, config: { api_key, model, embedding_dims | dims, base_url, timeout_ms, max_retries, ... } } }`
 * or the camelCase `{ provider, apiKey, model, dims, baseUrl, timeoutMs, maxRetries, backoffBaseMs, batchSize, indexSpace }`.
 */
export function embedderConfigFromObject(obj: Record<string, unknown>): EmbedderConfig {
  if (obj === null || typeof obj !== 'object')
    fail(
      'The sparse embedder configuration must be an object.',
      'Use { sparse_embedder: { provider, config: { ... } } } or { provider, apiKey, ... }.',
    );
  const se = obj.sparse_embedder;
  const raw: RawSettings = {};
  let settings: Record<string, unknown>;
  let prefix: string;
  if (se !== undefined && se !== null) {
    if (typeof se !== 'object')
      fail(
        'sparse_embedder must be an object.',
        'Use { sparse_embedder: { provider: "qwen", config: { api_key: "...", model: "text-embedding-v4" } } }.',
      );
    const s = se as Record<string, unknown>;
    raw.provider = { value: s.provider, name: 'sparse_embedder.provider' };
    const c = s.config ?? {};
    if (typeof c !== 'object' || c === null)
      fail('sparse_embedder.config must be an object.', 'Use config: { api_key, model, embedding_dims, base_url }.');
    settings = c as Record<string, unknown>;
    prefix = 'sparse_embedder.config.';
  } else {
    raw.provider = { value: obj.provider, name: 'provider' };
    settings = obj;
    prefix = '';
  }
  for (const field of FIELDS.filter((f) => f !== 'provider')) {
    const key = objectKeys(field).find((k) => settings[k] !== undefined && settings[k] !== null && settings[k] !== '');
    if (key !== undefined) raw[field] = { value: settings[key], name: prefix + key };
  }
  return build(raw, 'object', (field) =>
    field === 'provider' ? raw.provider!.name : prefix ? prefix + objectKeys(field)[0] : field,
  );
}
