import type { SparseVectorConfig } from '../config/config';
import type { SparseEmbedder } from '../embedders/types';
import type { Logger } from '../util/logger';
import type { Shard } from '../options/read';
import type { OptionSpec } from '../options/table';

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
  /** The option of the table (options/table.ts) it sets: its type, range and default, and its validator. */
  option?: OptionSpec;
}

/** A script parameter from the option table: the snake_case name, type, range, default and description. */
export function scriptParameter(spec: OptionSpec): ScriptParameter {
  const type: ParameterType =
    spec.type === 'int' || spec.type === 'float' || spec.type === 'bool' ? spec.type : 'string';
  return {
    name: spec.param!,
    type,
    ...(spec.default !== undefined ? { default: spec.default } : {}),
    required: false,
    description: (spec.paramHelp ?? spec.help).replace(/\.$/, ''),
    ...(spec.range ? { range: { ...spec.range } } : {}),
    option: spec,
  };
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

export type ScriptParams = Record<string, string | number | boolean | Shard | undefined>;

export interface ScriptDefinition {
  name: string;
  category: ScriptCategory;
  description: string;
  parameters: ScriptParameter[];
  /** Resolves with a result object; throws on failure. */
  run(params: ScriptParams, ctx: ScriptContext): Promise<unknown>;
}
