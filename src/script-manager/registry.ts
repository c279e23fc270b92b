import type { SparseVectorConfig } from '../config/config';
import type { SparseEmbedder } from '../embedders/types';
import type { Logger } from '../util/logger';

export type ScriptCategory = 'upgrade' | 'downgrade' | 'migration' | 'maintenance';

export const CATEGORY_TITLES: Record<ScriptCategory, string> = {
  upgrade: 'Upgrade Scripts - Add new features or upgrade existing features',
  downgrade: 'Downgrade Scripts - Rollback features (usually destructive operations)',
  migration: 'Migration Scripts - Data migration or format conversion',
  maintenance: 'Maintenance Scripts - Data cleanup, optimization, etc.',
};

export type ParameterType = 'int' | 'float' | 'bool' | 'string';

export interface ScriptParameter {
  /** snake_case, as in powermem's guide (the CLI also accepts --kebab-case). */
  name: string;
  type: ParameterType;
  default?: string | number | boolean;
  required: boolean;
  description: string;
  /** Inclusive numeric range. */
  range?: { min: number; max: number };
}

export interface ScriptContext {
  config: SparseVectorConfig;
  logger: Logger;
  out: NodeJS.WritableStream;
  /** Asks a yes/no question on a terminal; undefined when there is none. */
  confirm?: (question: string) => Promise<boolean>;
  signal?: AbortSignal;
  /** Embedder for migrate-sparse-vector (default: createEmbedder(config.embedder)). */
  embedder?: SparseEmbedder;
}

export type ScriptParams = Record<string, string | number | boolean | undefined>;

export interface ScriptDefinition {
  name: string;
  category: ScriptCategory;
  description: string;
  parameters: ScriptParameter[];
  /** Resolves with a result object; throws on failure. */
  run(params: ScriptParams, ctx: ScriptContext): Promise<unknown>;
}
