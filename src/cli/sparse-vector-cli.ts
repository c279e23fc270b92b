import { CommandLineParameterKind, CommandLineParser } from '@rushstack/ts-command-line';
import { loadDotenv } from '../config/load-env';
import { isSparseVectorError } from '../errors';
import { flagValueError } from '../options/flag-value';
import { booleanWord } from '../config/parse';
import { redact } from '../util/redact';
import { canonicalFlag, splitArgs, toActionArgv, type SplitArgs } from './argv';
import { EXIT, formatError, isUsageError } from './errors';
import { EXIT_STOPPED } from './seed-action';
import { sparseVectorActions, usageError, type SparseVectorAction } from './sparse-vector-actions';

const DESCRIPTION =
  'Usage: npx sparse-vector <command> [flags]. The script manager of sparse-vector-migration (powermem style), ' +
  'verify, doctor and search. Configuration comes from .env / the environment (DATABASE_URL or OCEANBASE_*, see ' +
  '.env.example); LOG_LEVEL=debug (or SPARSE_DEBUG=1) shows the SQL and the sparse search query. ' +
  "A command's flags: npx sparse-vector <command> -h.";
const EPILOG = 'Exit codes: 0 ok, 1 failed (verify: schema not upgraded), 2 usage error.';

/** The parser of `npx sparse-vector`: ts-command-line, as `npx umzug`; one help format, one usage-error path. */
export function sparseVectorParser(): { parser: CommandLineParser; actions: SparseVectorAction[] } {
  const parser = new (class extends CommandLineParser {})({
    toolFilename: 'sparse-vector',
    toolDescription: DESCRIPTION,
    toolEpilog: EPILOG,
  });
  const actions = sparseVectorActions();
  for (const action of actions) parser.addAction(action);
  return { parser, actions };
}

/** The boolean flags of every command (they take a following word only when it is true/false...). */
function booleanFlags(actions: SparseVectorAction[]): Set<string> {
  const names = new Set(['help']);
  for (const a of actions)
    for (const p of a.parameters)
      if (p.kind === CommandLineParameterKind.Flag) {
        const name = p.longName.slice(2);
        names.add(name).add(name.replace(/-/g, '_'));
      }
  return names;
}

/** The command line split into flags and positional words, knowing every command's boolean flags. */
export function parseArgs(args: string[], booleans = booleanFlags(sparseVectorParser().actions)): SplitArgs {
  return splitArgs(args, booleans);
}

/**
 * The argv ts-command-line parses, for `action`: flags checked against the action's parameters (an unknown
 * one is the action's usage error, before the parser could take it for an abbreviation), spelled as the
 * parser knows them, then the positional words as the remainder.
 */
function actionArgv(action: SparseVectorAction, argv: string[], booleans: Set<string>): string[] {
  const split = splitArgs(argv, booleans);
  const known = new Map(action.parameters.map((p) => [p.longName, p.kind]));
  action.argv = argv;
  for (const [typed, value] of Object.entries(split.flags)) {
    if (typed === 'help') continue;
    const name = canonicalFlag(typed);
    if (!known.has(name)) throw action.unknownFlag(typed, split.positional);
    const isFlag = known.get(name) === CommandLineParameterKind.Flag;
    if (isFlag && typeof value === 'string' && booleanWord(value) === undefined)
      throw flagValueError(`--${typed}`, value, 'true or false', 'true');
    action.typed.set(name, `--${typed}`);
    action.rawFlags[typed] = value;
  }
  return toActionArgv(action.actionName, split, (name) => known.get(name) === CommandLineParameterKind.Flag);
}

/** `npx sparse-vector <command>`: returns the exit code (0 ok, 1 failed, 2 usage error, 130 interrupted). */
export async function runSparseVectorCli(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { parser, actions } = sparseVectorParser();
  try {
    const command = splitArgs(argv, booleanFlags(actions)).positional[0];
    if (command === undefined && !argv.some((a) => a === '-h' || a === '--help')) {
      process.stderr.write(parser.renderHelpText() + '\n');
      return EXIT.usage;
    }
    if (command === undefined || command === 'help') {
      process.stdout.write(parser.renderHelpText() + '\n');
      return EXIT.ok;
    }
    const action = actions.find((a) => a.actionName === command);
    if (!action) throw usageError(`Unknown command '${command}'.`);
    if (command !== 'list' && command !== 'info') loadDotenv();
    const at = argv.indexOf(command);
    const rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
    await parser.executeWithoutErrorHandling(actionArgv(action, rest, booleanFlags(actions)));
    return action.exitCode;
  } catch (err) {
    return reportError(err);
  }
}

/** The one place an error becomes text on stderr and an exit code. */
function reportError(err: unknown): number {
  if (isUsageError(err)) {
    if (err.message) process.stderr.write(redact(err.message.trim()) + '\n');
    if (err.exitCode) process.stderr.write('  Run `npx sparse-vector <command> -h` for the accepted flags.\n');
    return err.exitCode ? EXIT.usage : EXIT.ok;
  }
  process.stderr.write(formatError(err) + '\n');
  if (isSparseVectorError(err) && err.code === 'INTERRUPTED') return EXIT_STOPPED;
  if (isSparseVectorError(err) && ['SCRIPT_UNKNOWN', 'SCRIPT_PARAMETER', 'USAGE'].includes(err.code)) return EXIT.usage;
  return EXIT.failed;
}
