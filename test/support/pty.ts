import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { collect, type CliResult } from './cli';

/** Whether util-linux `script` is there to give a command a real pseudo-terminal. */
export const hasScript = spawnSync('script', ['--version']).status === 0;

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

export interface PtyRun {
  child: ChildProcess;
  /** Everything the terminal showed so far (stdout and stderr of the command, as on a screen). */
  output(): string;
  /** Resolves once the terminal has shown `text` (or the command has ended). */
  waitFor(text: string | RegExp): Promise<void>;
  /** Type into the terminal (e.g. '\x03' is Ctrl-C, '\x04' is Ctrl-D). */
  type(keys: string): void;
  done: Promise<CliResult>;
}

/**
 * Run `argv` on a real pseudo-terminal (util-linux `script`), `cols` columns wide. The command's exit code is
 * script's exit code (-e). Keys typed with `type` reach the command as a user's keystrokes would.
 */
export function startOnPty(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: { cols?: number; timeoutMs?: number } = {},
): PtyRun {
  const size = `stty cols ${options.cols ?? 120} rows 40; `;
  const command = size + 'exec ' + argv.map(quote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d) => {
    text += d;
    waiters.splice(0).forEach((w) => w());
  });
  const done = collect(child, options.timeoutMs ?? 90_000);
  const waitFor = (want: string | RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (typeof want === 'string' ? text.includes(want) : want.test(text)) resolve();
        else waiters.push(check);
      };
      check();
      void done.then(
        () => resolve(),
        () => resolve(),
      );
    });
  return { child, output: () => text, waitFor, type: (keys) => child.stdin.write(keys), done };
}
