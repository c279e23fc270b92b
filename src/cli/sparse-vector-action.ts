import {
  CommandLineAction,
  type CommandLineRemainder,
  type CommandLineStringParameter,
  type ICommandLineActionOptions,
} from '@rushstack/ts-command-line';
import { resolveConfig, type SparseVectorConfig } from '../config/config';
import { SparseVectorError } from '../errors';
import { EXIT } from './errors';

/** The one usage error of `npx sparse-vector` (exit 2): a message, and the fix on the second line. */
export function usageError(
  message: string,
  hint = 'Run `npx sparse-vector --help` for the commands.',
): SparseVectorError {
  return new SparseVectorError('SCRIPT_PARAMETER', message, { hint });
}

/**
 * A command of `npx sparse-vector`: its flags are ts-command-line parameters; its positional words arrive
 * as the remainder (cli/argv.ts puts them there). `run()` returns the exit code.
 */
export abstract class SparseVectorAction extends CommandLineAction {
  exitCode: number = EXIT.ok;
  /** The flags as the user typed them (--batch_size), by canonical name (--batch-size), for messages. */
  readonly typed = new Map<string, string>();
  /** The flags as typed, without --, with their raw values (what `run` hands the script manager). */
  rawFlags: Record<string, string | boolean> = {};
  private readonly words: CommandLineRemainder;

  constructor(options: ICommandLineActionOptions, words = 'arguments') {
    super(options);
    this.words = this.defineCommandLineRemainder({ description: words });
  }

  /** The positional words after the command. */
  protected get positional(): string[] {
    const v = this.words.values;
    return v[0] === '--' ? v.slice(1) : [...v];
  }

  /** The command line as given (after the command), for the message about a word after a boolean flag. */
  argv: string[] = [];

  protected spelling = (flag: string): string => this.typed.get(flag) ?? flag;

  /** The configuration, with its notices printed as `npx umzug` prints them (stderr, "Note: ..."). */
  protected config(): SparseVectorConfig {
    const config = resolveConfig();
    for (const notice of config.notices) process.stderr.write(`Note: ${notice}\n`);
    return config;
  }

  /** The error for a flag this command does not have (the parser never sees it); `words` are the positional ones. */
  unknownFlag(typed: string, _words: string[]): SparseVectorError {
    const accepted = this.parameters.map((p) => p.longName).filter((n) => n !== '--help');
    return usageError(`Unknown option --${typed}. Accepted: ${accepted.join(', ') || 'none'}.`);
  }

  protected stringFlag(p: CommandLineStringParameter): string | undefined {
    if (p.value === undefined) return undefined;
    if (p.value.trim() === '') throw usageError(`${this.spelling(p.longName)} needs a value.`);
    return p.value;
  }

  protected override async onExecute(): Promise<void> {
    this.exitCode = await this.run();
  }

  protected abstract run(): Promise<number>;
}
