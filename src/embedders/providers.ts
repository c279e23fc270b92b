import { localProvider } from './local';
import { qwenProvider } from './qwen';
import { teiProvider } from './tei';
import type { EmbedderProviderDefinition } from './types';

/**
 * The provider registry. Adding a provider = one module that exports an EmbedderProviderDefinition
 * (name, validate, create) + one entry in this list; its name then becomes a valid
 * SPARSE_EMBEDDER_PROVIDER value and a member of the EmbedderProvider type. See docs/embedders.md.
 */
export const PROVIDERS = [localProvider, qwenProvider, teiProvider] as const;

export type EmbedderProvider = (typeof PROVIDERS)[number]['name'];

/** Accepted provider names, in registry order. */
export const EMBEDDER_PROVIDERS: readonly EmbedderProvider[] = PROVIDERS.map((p) => p.name);

export function findProvider(name: string): EmbedderProviderDefinition<EmbedderProvider> | undefined {
  return PROVIDERS.find((p) => p.name === name);
}
