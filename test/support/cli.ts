import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a command as a user would (stdin closed, not a terminal) and collect its output. */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  const env = options.env ?? process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    collectChecked(child, env, options.timeoutMs ?? 60_000).then(resolve, reject);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/**
 * The secrets a command was given: the database password (DATABASE_URL, OCEANBASE_PASSWORD) and API keys.
 * Every command run through `run` is checked: none of them may appear in its output.
 */
export function secretsOf(env: NodeJS.ProcessEnv): string[] {
  const secrets = [env.OCEANBASE_PASSWORD, env.SPARSE_EMBEDDER_API_KEY, env.DASHSCOPE_API_KEY];
  for (const name of ['DATABASE_URL', 'SPARSE_TEST_DATABASE_URL', 'OCEANBASE_TEST_URL']) {
    try {
      if (env[name]) secrets.push(decodeURIComponent(new URL(env[name]).password));
    } catch {
      // not a URL: nothing to look for
    }
  }
  // Very short values (e.g. "p") would match ordinary text; the redaction tests cover those on their own.
  return secrets.filter((s): s is string => !!s && s.length >= 4);
}

/** collect(), and a failure when the output contains a secret of `env` (see secretsOf), also for a killed process. */
export function collectChecked(child: ChildProcess, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return collect(child, timeoutMs).then((r) => {
    const leaked = secretsOf(env).find((secret) => r.stdout.includes(secret) || r.stderr.includes(secret));
    if (leaked)
      throw new Error(
        `${child.spawnargs.slice(1).join(' ')} printed a secret from its environment (${leaked.slice(0, 2)}…)`,
      );
    return r;
  });
}

export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `node bin/umzug.js ...` (the compiled CLI; `npm test` builds first). */
export function umzug(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number, cwd?: string): Promise<CliResult> {
  return run(process.execPath, [path.join(ROOT, 'bin', 'umzug.js'), ...args], { env, timeoutMs, cwd });
}

/** `node bin/sparse-vector.js ...` (the compiled CLI). */
export function sparseVector(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<CliResult> {
  return run(process.execPath, [path.join(ROOT, 'bin', 'sparse-vector.js'), ...args], { env, timeoutMs });
}

/**
 * Start `umzug <args>` with the failpoint SPARSE_FAILPOINT=`failpoint` (see src/util/failpoint.ts); `reached`
 * resolves once the process announces it stands there (or has ended). Its output is checked for secrets.
 */
export function startAt(failpoint: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'umzug.js'), ...args], {
    env: { ...env, SPARSE_FAILPOINT: failpoint },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = collectChecked(child, env, 60_000);
  const name = failpoint.replace(/(@\d+)?(:(\d+|SIG[A-Z0-9]+))?$/, '');
  const announced = new Promise<void>((resolve) =>
    child.stderr.on('data', (d) => String(d).includes(`FAILPOINT ${name}`) && resolve()),
  );
  const reached = Promise.race([announced, done.then(() => undefined)]);
  return { child, done, reached };
}
