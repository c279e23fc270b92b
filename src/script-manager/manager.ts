import { resolveConfig, type SparseVectorConfig } from '../config/config';
import { expectedWords, readOption, type OptionValue } from '../options/read';
import type { OptionSpec } from '../options/table';
import { SparseVectorError } from '../errors';
import { unwrapMigrationError } from '../migrator/migrate-on-boot';
import { createConsoleLogger } from '../util/logger';
import {
  CATEGORY_TITLES,
  type ScriptCategory,
  type ScriptContext,
  type ScriptDefinition,
  type ScriptParameter,
  type ScriptParams,
} from './registry';
import { SCRIPTS } from './scripts';

const RULE = '='.repeat(70);
const THIN = '-'.repeat(70);

export function findScript(name: string): ScriptDefinition {
  const s = SCRIPTS.find((x) => x.name === name);
  if (!s) {
    throw new SparseVectorError('SCRIPT_UNKNOWN', `Unknown script '${name}'.`, {
      hint: `Available scripts: ${SCRIPTS.map((x) => x.name).join(', ')}.`,
    });
  }
  return s;
}

/** What `list` and `info` show about a script, as data. */
export interface ScriptInfo {
  name: string;
  category: ScriptCategory;
  categoryTitle: string;
  description: string;
  /** Destructive scripts ask for confirmation (or need yes: true / --yes). */
  destructive: boolean;
  parameters: ScriptParameter[];
}

function toInfo(s: ScriptDefinition): ScriptInfo {
  return {
    name: s.name,
    category: s.category,
    categoryTitle: CATEGORY_TITLES[s.category],
    description: s.description,
    destructive: s.category === 'downgrade',
    parameters: s.parameters.map(({ option: _option, ...p }) => ({ ...p, range: p.range && { ...p.range } })),
  };
}

/** Every script, in the order `list` shows them. */
export function listScripts(): ScriptInfo[] {
  return SCRIPTS.map(toInfo);
}

/** One script's category, description and parameters; SparseVectorError SCRIPT_UNKNOWN lists the available ones. */
export function scriptInfo(name: string): ScriptInfo {
  return toInfo(findScript(name));
}

/** `list`: scripts grouped by category, as powermem's ScriptManager prints them. */
export function formatScriptList(): string[] {
  const lines = [RULE, 'sparse-vector-migration Available Scripts', RULE];
  for (const category of Object.keys(CATEGORY_TITLES) as ScriptCategory[]) {
    const scripts = SCRIPTS.filter((s) => s.category === category);
    if (!scripts.length) continue;
    lines.push('', `【${CATEGORY_TITLES[category]}】`, THIN);
    for (const s of scripts) lines.push(`  • ${s.name}`, `    ${s.description}`);
  }
  lines.push('', RULE);
  return lines;
}

function formatParameter(p: ScriptParameter): string {
  const range = p.range ? `, ${p.range.min}..${p.range.max === Number.MAX_SAFE_INTEGER ? '∞' : p.range.max}` : '';
  const def = p.default !== undefined ? `, default: ${String(p.default)}` : '';
  return `  ${p.name} (${p.type}${range}) (${p.required ? 'required' : 'optional'}${def})\n      ${p.description}`;
}

/** `info <script>`: category, description and every parameter with type, default and whether it is required. */
export function formatScriptInfo(name: string): string[] {
  const s = findScript(name);
  const lines = [
    RULE,
    `Script: ${s.name}`,
    RULE,
    `Category: ${s.category}`,
    `Description: ${s.description}`,
    '',
    THIN,
    'Parameters:',
    THIN,
  ];
  lines.push('  config (object) (from .env / environment, or passed programmatically)');
  for (const p of s.parameters) lines.push(formatParameter(p));
  return lines;
}

function describeAccepted(s: ScriptDefinition): string {
  return s.parameters.length
    ? s.parameters.map((p) => `--${p.name.replace(/_/g, '-')} (${p.type})`).join(', ')
    : 'none';
}

/**
 * Validate and convert raw parameters (strings from the CLI, or typed values) against the script's list.
 * With `asFlags` (the CLI), errors name the flag and the value as typed (`--batch-size "0" is not …`), as
 * every CLI of the package does.
 */
export function parseScriptParams(
  s: ScriptDefinition,
  raw: Record<string, unknown>,
  options: { asFlags?: boolean } = {},
): ScriptParams {
  const out: ScriptParams = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = key.replace(/-/g, '_');
    const p = s.parameters.find((x) => x.name === name);
    if (!p) {
      throw new SparseVectorError('SCRIPT_PARAMETER', `Unknown parameter '${key}' for script '${s.name}'.`, {
        hint: `Accepted: ${describeAccepted(s)}.`,
      });
    }
    out[name] = convert(s, p, value, options.asFlags ? `--${key}` : undefined);
  }
  for (const p of s.parameters) {
    if (out[p.name] === undefined && p.default !== undefined) out[p.name] = p.default;
    if (out[p.name] === undefined && p.required)
      throw new SparseVectorError('SCRIPT_PARAMETER', `Script '${s.name}' needs the parameter '${p.name}'.`);
  }
  return out;
}

/**
 * One parameter's value, through the option table's validator (options/read.ts): given as a flag (the CLI),
 * the usage error names the flag as typed; given programmatically, the error names the script's parameter.
 */
function convert(s: ScriptDefinition, p: ScriptParameter, value: unknown, flag?: string): OptionValue {
  const spec: OptionSpec = p.option ?? { name: p.name, type: p.type, range: p.range, help: p.description };
  if (flag !== undefined) return readOption(spec, value, { kind: 'flag', name: flag })!;
  try {
    const v = value === '' ? undefined : readOption(spec, value, { kind: 'api', name: p.name });
    if (v !== undefined) return v;
  } catch {
    // worded below, naming the script's parameter
  }
  throw new SparseVectorError(
    'SCRIPT_PARAMETER',
    `Parameter '${p.name}' of script '${s.name}' must be ${expectedWords(spec)} (got ${JSON.stringify(value)}).`,
    { hint: `Accepted parameters: ${describeAccepted(s)}.` },
  );
}

export interface RunScriptOptions extends Partial<Omit<ScriptContext, 'logger' | 'config' | 'out'>> {
  /** Defaults to resolveConfig() (.env / the environment). */
  config?: SparseVectorConfig;
  /** Where the script's lines go (default process.stdout). */
  out?: NodeJS.WritableStream;
  logger?: ScriptContext['logger'];
}

/** What runScript returns: the script's result, or the error that ended it (errors are values: never thrown). */
export type ScriptRunResult =
  { ok: true; script: string; result: unknown } | { ok: false; script: string; error: Error };

/**
 * Run a script with the guide's framing lines: "Preparing to execute script: <name>", "Description: ...",
 * the script's own lines, then "✓ Script '<name>' executed successfully!" or "✗ Script '<name>' execution
 * failed". The error itself is returned, not printed (the CLI prints it once; a program decides). Unknown
 * scripts and ill-typed parameters are returned as errors before anything is printed or run.
 * Parameter keys may be snake_case (batch_size, as in the guide) or kebab-case.
 */
export async function runScript(
  name: string,
  params: Record<string, unknown> = {},
  options: RunScriptOptions = {},
): Promise<ScriptRunResult> {
  let s: ScriptDefinition;
  let parsed: ScriptParams;
  let config: SparseVectorConfig;
  try {
    s = findScript(name);
    parsed = parseScriptParams(s, params);
    config = options.config ?? resolveConfig();
  } catch (error) {
    return { ok: false, script: name, error: error as Error };
  }
  const out = options.out ?? process.stdout;
  const logger = options.logger ?? createConsoleLogger({ out });
  out.write(`Preparing to execute script: ${s.name}\nDescription: ${s.description}\n`);
  try {
    const { confirm, signal, embedder } = options;
    const result = await s.run(parsed, { config, out, logger, confirm, signal, embedder });
    out.write(`\n✓ Script '${s.name}' executed successfully!\n`);
    return { ok: true, script: s.name, result };
  } catch (caught) {
    out.write(`\n✗ Script '${s.name}' execution failed\n`);
    // Umzug wraps a migration's error in MigrationError: callers get the SparseVectorError inside.
    return { ok: false, script: s.name, error: unwrapMigrationError(caught) };
  }
}

/** The guide's `ScriptManager.list_scripts()`, `.info(name)` and `.run(name, ...)`, printing to `out`. */
export const ScriptManager = {
  listScripts(out: NodeJS.WritableStream = process.stdout): ScriptInfo[] {
    out.write(formatScriptList().join('\n') + '\n');
    return listScripts();
  },
  info(name: string, out: NodeJS.WritableStream = process.stdout): ScriptInfo {
    const info = scriptInfo(name);
    out.write(formatScriptInfo(name).join('\n') + '\n');
    return info;
  },
  run: runScript,
};

export { SCRIPTS };
