import { LOGGING } from '../options/table-connection';
import { redact } from './redact';

/** The small logger every module writes through; every line is passed through `redact`. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export type LogLevel = 'silent' | 'info' | 'debug';

/** Writes info/debug lines to `out` (stdout by default) and warnings to stderr. */
export function createConsoleLogger(
  options: { level?: LogLevel; out?: NodeJS.WritableStream; err?: NodeJS.WritableStream } = {},
): Logger {
  const level = options.level ?? defaultLevel();
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  return {
    info: (m) => level !== 'silent' && void out.write(redact(m) + '\n'),
    warn: (m) => level !== 'silent' && void err.write(redact(`Warning: ${m}`) + '\n'),
    debug: (m) => level === 'debug' && void out.write(redact(`DEBUG: ${m}`) + '\n'),
  };
}

/**
 * LOG_LEVEL, one of the option table's levels (SPARSE_DEBUG=1 is short for debug). Lenient: another
 * value means the default, so a typo never stops a run.
 */
export function defaultLevel(env: Record<string, string | undefined> = process.env): LogLevel {
  if (env.SPARSE_DEBUG === '1' || env.SPARSE_DEBUG === 'true') return 'debug';
  const { env: name, choices, default: fallback } = LOGGING.logLevel;
  const l = (env[name] ?? '').toLowerCase();
  return choices.find((c) => c === l) ?? fallback;
}

export const silentLogger: Logger = { info() {}, warn() {}, debug() {} };

/** A logger that keeps lines in memory (used by the boot API's result and by tests). */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => void lines.push(redact(m)),
    warn: (m) => void lines.push(redact(`Warning: ${m}`)),
    debug: () => {},
  };
}
