/** One option of the table (src/options/table.ts): every way to set it, its type, range, default and help. */
export type OptionType = 'int' | 'float' | 'bool' | 'string' | 'choice' | 'shard';

export interface OptionSpec {
  /** The API name: the key in BackfillOptions / SparseVectorOptions. */
  readonly name: string;
  /** Environment variable (also read from .env). */
  readonly env?: string;
  /** Other variables read, in order, when `env` is unset (powermem's names). */
  readonly aliases?: readonly string[];
  /** A variable read for one provider only, when `env` and the aliases are unset (qwen: DASHSCOPE_BASE_URL). */
  readonly providerAliases?: Readonly<Record<string, readonly string[]>>;
  /** Keys in a configuration object, first match wins: powermem's snake_case, then camelCase. */
  readonly keys?: readonly string[];
  /** Command-line flag of `npx umzug seed` and `npx sparse-vector run`. */
  readonly flag?: string;
  /** Script parameter (snake_case, as powermem's guide writes them). */
  readonly param?: string;
  readonly type: OptionType;
  /** Inclusive range of a number. */
  readonly range?: { readonly min: number; readonly max: number };
  /** Allowed values of a choice. */
  readonly choices?: readonly string[];
  readonly default?: number | string | boolean;
  /** A default that depends on the embedder provider (the qwen model and base URL). */
  readonly providerDefaults?: Readonly<Record<string, string>>;
  /**
   * The docs' default when it is not one value (workers: per embedder; model: per provider), or what
   * leaving the option unset means (limit: all; a throttle: off).
   */
  readonly defaultText?: string;
  /** The value used in "e.g." hints when there is no default. */
  readonly example?: number | string;
  /** The flag's argument name in `-h` (N, SECONDS...). */
  readonly argument?: string;
  /** Help text: one sentence, without the range and default (added from the fields above). */
  readonly help: string;
  /** The script parameter's description, when it follows powermem's guide wording. */
  readonly paramHelp?: string;
  /** A string that names an SQL object: validated as an identifier, its error naming it thus ('table name'). */
  readonly identifier?: string;
  /** The fix an invalid value's error suggests (the embedder settings: src/embedders/config.ts). */
  readonly hint?: string;
}
