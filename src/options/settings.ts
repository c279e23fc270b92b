import { validateIdentifier } from '../identifiers';
import { readOption } from './read';
import type { OptionSpec } from './table';

type Env = Record<string, string | undefined>;

/** The value type of a setting of the table: boolean, text, one of its choices, or a number. */
type ValueOf<S extends OptionSpec> = S extends { readonly type: 'bool' }
  ? boolean
  : S extends { readonly type: 'string' }
    ? string
    : S extends { readonly choices: readonly (infer C)[] }
      ? C
      : number;

/** A setting's variables in the order they are read: its own, then its aliases (powermem's names). */
export function envNames(spec: OptionSpec): string[] {
  return spec.env ? [spec.env, ...(spec.aliases ?? [])] : [];
}

/** The first of a setting's variables set to a non-empty value: its name (for errors) and value. */
export function envEntry(spec: OptionSpec, env: Env): { name: string; value: string } | undefined {
  const name = envNames(spec).find((n) => env[n] !== undefined && env[n] !== '');
  return name === undefined ? undefined : { name, value: env[name]! };
}

/** A setting's text from its variables, undefined when unset or empty. */
export function envText(spec: OptionSpec, env: Env): string | undefined {
  return envEntry(spec, env)?.value;
}

/** A configuration setting from its variables (unset or empty: the table's default). */
export function settingFromEnv<S extends OptionSpec & { readonly env: string; readonly default: unknown }>(
  spec: S,
  env: Env,
): ValueOf<S> {
  const entry = envEntry(spec, env);
  const value = entry && readOption(spec, entry.value, { kind: 'env', name: entry.name });
  return (value ?? spec.default) as ValueOf<S>;
}

/** A configuration setting given to the API (undefined when not given). */
export function settingFromApi<S extends OptionSpec>(spec: S, value: unknown): ValueOf<S> | undefined {
  return readOption(spec, value, { kind: 'api', name: spec.name }) as ValueOf<S> | undefined;
}

/** A setting from a configuration object: the first of the row's keys whose value `read` accepts. */
export function objectSetting<T>(
  spec: OptionSpec,
  object: Record<string, unknown>,
  read: (value: unknown) => T | undefined,
): T | undefined {
  for (const key of spec.keys ?? []) {
    const value = read(object[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * An SQL name given by `source` (the variable, or the API name): validated as the table's row says
 * (IDENTIFIER_INVALID: `Invalid id column "a b" (from SPARSE_ID_FIELD): ...`).
 */
export function identifierSetting(spec: OptionSpec & { readonly identifier: string }, value: unknown, source: string) {
  return validateIdentifier(value, spec.identifier, source);
}

/** An SQL name from its variable, else `fallback` (the table's default), validated naming the variable. */
export function identifierFromEnv(
  spec: OptionSpec & { readonly identifier: string; readonly env: string },
  env: Env,
  fallback = spec.default as string,
): string {
  return identifierSetting(spec, envText(spec, env) ?? fallback, spec.env);
}
