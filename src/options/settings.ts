import { readOption } from './read';
import type { OptionSpec } from './table';

/** The value type of a setting of the table: its choices, or a number. */
type ValueOf<S extends OptionSpec> = S extends { readonly choices: readonly (infer C)[] } ? C : number;

/** A configuration setting from its variable (unset or empty: the table's default). */
export function settingFromEnv<S extends OptionSpec & { readonly env: string; readonly default: unknown }>(
  spec: S,
  env: Record<string, string | undefined>,
): ValueOf<S> {
  return (readOption(spec, env[spec.env], { kind: 'env', name: spec.env }) ?? spec.default) as ValueOf<S>;
}

/** A configuration setting given to the API (undefined when not given). */
export function settingFromApi<S extends OptionSpec>(spec: S, value: unknown): ValueOf<S> | undefined {
  return readOption(spec, value, { kind: 'api', name: spec.name }) as ValueOf<S> | undefined;
}
