import { SvmError } from '../errors';
import { EMBEDDER_PROVIDERS, findProvider } from './providers';
import type { EmbedderConfig, SparseEmbedder } from './types';

export type { ConfigCheck, EmbedderConfig, EmbedderProvider, EmbedderProviderDefinition, EmbedMode, EmbedOptions, SparseEmbedder } from './types';
export { embedderConfigFromEnv, embedderConfigFromObject } from './config';
export { EMBEDDER_PROVIDERS, PROVIDERS, findProvider } from './providers';
export { LocalSparseEmbedder, localProvider, DEFAULT_INDEX_SPACE } from './local';
export { QwenSparseEmbedder, qwenProvider, dashscopeEndpoint, DASHSCOPE_INTL, DASHSCOPE_MAINLAND } from './qwen';
export { TeiSparseEmbedder, teiProvider, teiEndpoint } from './tei';
export type { HttpStats } from './http';

/**
 * The embedder for a configuration (from embedderConfigFromEnv / embedderConfigFromObject, or built by
 * hand). Provider-specific checks run again here, so a hand-built config is held to the same rules.
 */
export function createEmbedder(config: EmbedderConfig): SparseEmbedder {
  const definition = findProvider(String(config.provider));
  if (!definition) {
    throw new SvmError('EMBEDDER_CONFIG', `Unknown sparse embedder provider ${JSON.stringify(config.provider)}.`, { hint: `Use one of: ${EMBEDDER_PROVIDERS.join(', ')}.` });
  }
  definition.validate?.(config, {
    source: 'object',
    nameOf: (field) => field,
    fail: (message, hint) => {
      throw new SvmError('EMBEDDER_CONFIG', message, { hint });
    },
  });
  return definition.create(config);
}
