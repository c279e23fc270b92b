/**
 * Writes the option tables of the docs from the option table (src/options/table.ts): the blocks between
 * `BEGIN options:NAME` and `END options:NAME` markers in README.md, docs/backfill.md, docs/embedders.md and
 * .env.example.
 *
 *   npm run docs:options            rewrite the blocks
 *   npm run docs:options -- --check  exit 1 and name the files whose blocks differ (test/docs does the same)
 *
 * Text outside the markers is left alone; a default, range or help text is changed in the table, never here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { rangeText } from '../src/options/help';
import {
  BACKFILL,
  CONNECTION,
  EMBEDDER,
  LOGGING,
  SEED_FLAGS,
  SETTINGS,
  TARGET,
  type OptionSpec,
} from '../src/options/table';

export const ROOT = path.join(__dirname, '..', path.basename(path.join(__dirname, '..')) === 'dist' ? '..' : '');

/** What the docs write as an option's default: the value, or the table's words for it. */
export function docsDefault(spec: OptionSpec): string {
  return spec.defaultText ?? (spec.default === undefined ? 'none' : String(spec.default));
}

/** The help, then the range in words the docs use. */
function meaning(spec: OptionSpec): string {
  return spec.range ? `${spec.help} Range ${rangeText(spec.range)}.` : spec.help;
}

/** The other variables read for an option, in words (aliases, then a provider's own). */
function otherVariables(spec: OptionSpec, code: (name: string) => string): string[] {
  const out = (spec.aliases ?? []).map((a) => `also ${code(a)}`);
  for (const [provider, names] of Object.entries(spec.providerAliases ?? {}))
    out.push(`${provider} only, last: ${names.map(code).join(', ')}`);
  return out;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');
const code = (text: string): string => `\`${text}\``;

/** A flag as the docs write it: `--batch-size N`, `--dry-run`, `--progress tty|plain|json|none`. */
function flagText(spec: OptionSpec): string {
  if (spec.type === 'bool') return spec.flag!;
  const argument = spec.argument ?? spec.choices?.filter((c) => c !== spec.default).join('|') ?? 'VALUE';
  return `${spec.flag!} ${argument}`;
}

/** The flags of `npx umzug seed` / `npx sparse-vector run migrate-sparse-vector` with their variables. */
function flagTable(): string[] {
  return [
    '| flag | variable | default | meaning |',
    '|---|---|---|---|',
    ...SEED_FLAGS.map(
      (o) => `| ${cell(code(flagText(o)))} | ${code(o.env!)} | ${cell(docsDefault(o))} | ${cell(meaning(o))} |`,
    ),
  ];
}

/** The configuration variables of the table that are not backfill flags: storage, lock, the embedder. */
const SETTING_ROWS: readonly OptionSpec[] = [SETTINGS.storage, SETTINGS.lockTimeoutSeconds, ...Object.values(EMBEDDER)];

/** A variable's cell: it, and the other variables read for it. */
function variableCell(o: OptionSpec): string {
  const others = otherVariables(o, code);
  return others.length ? `${code(o.env!)} (${others.join('; ')})` : code(o.env!);
}

/** The database, the table, the ledgers and the log level: README's first configuration table. */
const CONFIGURATION_ROWS: readonly OptionSpec[] = [
  ...Object.values(CONNECTION),
  ...Object.values(TARGET),
  ...Object.values(LOGGING),
];

/** A table of variables, their defaults and meanings. */
function variableRows(specs: readonly OptionSpec[]): string[] {
  return specs.map((o) => `| ${variableCell(o)} | ${cell(code(docsDefault(o)))} | ${cell(meaning(o))} |`);
}

/** README's table of the database, table, ledger and logging variables. */
function configurationTable(): string[] {
  return ['| variable | default | meaning |', '|---|---|---|', ...variableRows(CONFIGURATION_ROWS)];
}

/** README's table of the settings, ending with a row that points at the backfill's flags table. */
function settingsTable(): string[] {
  const backfill = Object.values(BACKFILL)
    .filter((o: OptionSpec) => o.env)
    .map((o: OptionSpec) => o.env!.replace('SPARSE_BACKFILL_', ''));
  return [
    '| variable | default | meaning |',
    '|---|---|---|',
    ...variableRows(SETTING_ROWS),
    `| \`SPARSE_BACKFILL_*\` | see Backfill | the seeder's defaults, one per flag: ${backfill.map(code).join(', ')} |`,
  ];
}

/** docs/embedders.md's table of the embedder's settings, with their configuration-object keys. */
function embedderTable(): string[] {
  return [
    '| variable | object keys | default | meaning |',
    '|---|---|---|---|',
    ...Object.values(EMBEDDER).map(
      (o: OptionSpec) =>
        `| ${variableCell(o)} | ${(o.keys ?? []).map(code).join(', ')} | ${cell(code(docsDefault(o)))} | ${cell(meaning(o))} |`,
    ),
  ];
}

/** `# ` comment lines of at most 118 characters. */
function commentLines(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > 118 && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

/** An option in .env.example: its help (and the default in words when it is not one value), then `# VAR=default`. */
function envEntry(spec: OptionSpec): string[] {
  const others = otherVariables(spec, (n) => n);
  const text = others.length ? `${meaning(spec)} Variables: ${spec.env!}; ${others.join('; ')}.` : meaning(spec);
  return [
    ...commentLines(text),
    ...(spec.defaultText ? [`# Default: ${spec.defaultText}.`] : []),
    `# ${spec.env!}=${spec.defaultText || spec.default === undefined ? '' : String(spec.default)}`,
  ];
}

const envBlock = (specs: readonly OptionSpec[]): string[] => specs.filter((o) => o.env).flatMap(envEntry);

/** Each file's generated blocks, by name. */
export const BLOCKS: Readonly<Record<string, Readonly<Record<string, () => string[]>>>> = {
  'README.md': { 'backfill-flags': flagTable, configuration: configurationTable, settings: settingsTable },
  'docs/backfill.md': { 'backfill-flags': flagTable },
  'docs/embedders.md': { 'embedder-settings': embedderTable },
  '.env.example': {
    database: () => envBlock(Object.values(CONNECTION)),
    table: () => envBlock([TARGET.table, TARGET.textColumn, TARGET.idColumn]),
    sparse: () => envBlock([TARGET.enabled, SETTINGS.storage, TARGET.indexParams]),
    ledgers: () => envBlock([TARGET.migrationsTable, TARGET.seedsTable, SETTINGS.lockTimeoutSeconds]),
    log: () => envBlock(Object.values(LOGGING)),
    embedder: () => envBlock(Object.values(EMBEDDER)),
    backfill: () => envBlock(Object.values(BACKFILL)),
  },
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `text` with each named block between its markers replaced by what the table gives; a missing marker throws. */
export function withBlocks(file: string, text: string): string {
  const comment = file.endsWith('.md') ? ['<!--', '-->'] : ['#', ''];
  let out = text;
  for (const [name, render] of Object.entries(BLOCKS[file])) {
    const [open, close] = [`${comment[0]} BEGIN options:${name}`, `${comment[0]} END options:${name}`];
    const block = new RegExp(`(${escape(open)}[^\\n]*\\n)[\\s\\S]*?(${escape(close)}[^\\n]*)`);
    if (!block.test(out)) throw new Error(`${file}: no "${open} ... ${close}" markers.`);
    out = out.replace(block, (_m, begin: string, end: string) => `${begin}${render().join('\n')}\n${end}`);
  }
  return out;
}

/** The files whose blocks differ from the table's, with the text they should have. */
export function staleDocs(root = ROOT): Array<{ file: string; expected: string }> {
  return Object.keys(BLOCKS).flatMap((file) => {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const expected = withBlocks(file, text);
    return expected === text ? [] : [{ file, expected }];
  });
}

if (require.main === module) {
  const stale = staleDocs();
  if (process.argv.includes('--check')) {
    for (const { file } of stale) console.error(`${file}: its option tables differ from src/options/table.ts`);
    if (stale.length) console.error('Run npm run docs:options to rewrite them.');
    process.exitCode = stale.length ? 1 : 0;
  } else {
    for (const { file, expected } of stale) fs.writeFileSync(path.join(ROOT, file), expected);
    console.log(stale.length ? `Rewrote ${stale.map((s) => s.file).join(', ')}.` : 'The docs are up to date.');
  }
}
