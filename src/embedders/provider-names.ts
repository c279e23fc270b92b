/**
 * The embedder providers' names, in registry order: the accepted SPARSE_EMBEDDER_PROVIDER values and the
 * EmbedderProvider type. A leaf module, so that the shared types and the registry (providers.ts, which
 * imports every provider module) do not import each other.
 */
export const EMBEDDER_PROVIDERS = ['local', 'qwen', 'tei'] as const;

export type EmbedderProvider = (typeof EMBEDDER_PROVIDERS)[number];
