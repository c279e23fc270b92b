import { localProvider } from './local';
import { EMBEDDER_PROVIDERS, type EmbedderProvider } from './provider-names';
import { qwenProvider } from './qwen';
import { teiProvider } from './tei';
import type { EmbedderProviderDefinition } from './types';

export { EMBEDDER_PROVIDERS, type EmbedderProvider };

/**
 * The provider registry. Adding a provider = one module that exports an EmbedderProviderDefinition
 * (name, validate, create), its name in provider-names.ts and its entry here (the compiler asks for both);
 * the name then becomes a valid SPARSE_EMBEDDER_PROVIDER value. See docs/embedders.md.
 */
const REGISTRY: { readonly [Name in EmbedderProvider]: EmbedderProviderDefinition<Name> } = {
  local: localProvider,
  qwen: qwenProvider,
  tei: teiProvider,
};

/** Every provider's definition, in registry order. */
export const PROVIDERS: readonly EmbedderProviderDefinition<EmbedderProvider>[] = EMBEDDER_PROVIDERS.map(
  (name) => REGISTRY[name],
);

export function findProvider(name: string): EmbedderProviderDefinition<EmbedderProvider> | undefined {
  return PROVIDERS.find((p) => p.name === name);
}
