import { LocalSparseEmbedder } from './local';
import { QwenSparseEmbedder } from './qwen';
import { TeiSparseEmbedder } from './tei';
import type { EmbedderConfig, EmbedderProvider, SparseEmbedder } from './types';

export type { EmbedderConfig, EmbedderProvider, EmbedMode, SparseEmbedder } from './types';
export { embedderConfigFromEnv, embedderConfigFromObject, EMBEDDER_PROVIDERS } from './config';
export { LocalSparseEmbedder } from './local';
export { QwenSparseEmbedder, DASHSCOPE_INTL, DASHSCOPE_MAINLAND } from './qwen';
export { TeiSparseEmbedder } from './tei';

/**
 * The provider registry: adding a provider is one module implementing SparseEmbedder and one line here
 * (plus its name in EMBEDDER_PROVIDERS and its settings in config.ts).
 */
const PROVIDERS: Record<EmbedderProvider, (config: EmbedderConfig) => SparseEmbedder> = {
  local: (c) => new LocalSparseEmbedder(c),
  qwen: (c) => new QwenSparseEmbedder(c),
  tei: (c) => new TeiSparseEmbedder(c),
};

export function createEmbedder(config: EmbedderConfig): SparseEmbedder {
  return PROVIDERS[config.provider](config);
}
