import { embedderConfigFromObject } from './config';
import { findProvider } from './providers';
import type { EmbedderConfig, SparseEmbedder } from './types';

export type {
  ConfigCheck,
  EmbedderConfig,
  EmbedderProvider,
  EmbedderProviderDefinition,
  EmbedMode,
  EmbedOptions,
  SparseEmbedder,
} from './types';
export { embedderConfigFromEnv, embedderConfigFromObject } from './config';
export { EMBEDDER_PROVIDERS, PROVIDERS, findProvider } from './providers';
export { LocalSparseEmbedder, localProvider, DEFAULT_INDEX_SPACE } from './local';
export { QwenSparseEmbedder, qwenProvider, dashscopeEndpoint, DASHSCOPE_INTL, DASHSCOPE_MAINLAND } from './qwen';
export { TeiSparseEmbedder, teiProvider, teiEndpoint } from './tei';
export type { HttpStats } from './http';
export {
  canonicalFingerprint,
  describeFingerprint,
  fingerprintOf,
  parseFingerprint,
  type EmbedderFingerprint,
} from './fingerprint';

/**
 * The embedder for a configuration (from embedderConfigFromEnv / embedderConfigFromObject, or built by
 * hand). A hand-built config goes through the same validation as an object (embedderConfigFromObject), so
 * it is held to the same rules and gets the same errors.
 */
export function createEmbedder(config: EmbedderConfig): SparseEmbedder {
  const checked = embedderConfigFromObject({ ...config });
  return findProvider(checked.provider)!.create(checked);
}
