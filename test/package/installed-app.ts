import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, run, type CliResult } from '../support/cli';

/**
 * An application that installs this package the way users do: `npm pack` of the project (the tarball, never a
 * directory or a symlink), installed into a fresh app in a temporary directory with its dependencies from the
 * registry or the npm cache. Each test file packs once and reuses its app across its tests.
 */
export interface InstalledApp {
  dir: string;
  kind: 'commonjs' | 'module';
  tarball: string;
  /** Run a command in `sub` (a directory of the app) with the given environment. */
  run(command: string, args: string[], sub: string, env: NodeJS.ProcessEnv): Promise<CliResult>;
  write(file: string, text: string): void;
  /** Every path under node_modules, to show that a command wrote nothing there. */
  nodeModulesListing(): string[];
  remove(): void;
}

export async function packProject(into: string): Promise<string> {
  const r = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into], {
    cwd: ROOT,
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(`npm pack failed:\n${r.stderr}`);
  return path.join(into, (JSON.parse(r.stdout) as Array<{ filename: string }>)[0].filename);
}

export async function installApp(kind: InstalledApp['kind']): Promise<InstalledApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `svm-${kind}-app-`));
  const tarball = await packProject(dir);
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `some-${kind}-app`, version: '1.0.0', private: true, type: kind }, null, 2),
  );
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: dir,
    timeoutMs: 240_000,
  });
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.stderr}`);
  const app: InstalledApp = {
    dir,
    kind,
    tarball,
    run: (command, args, sub, env) => run(command, args, { cwd: path.join(dir, sub), env, timeoutMs: 120_000 }),
    write: (file, text) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    },
    nodeModulesListing: () => listFiles(path.join(dir, 'node_modules')),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  return app;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * The code blocks of the README's "Adding it to your application" section, keyed by their first line (a
 * `// file name` comment): the tests copy them into the app as they are.
 */
export function readmeSnippets(): Map<string, string> {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Adding it to your application');
  if (start < 0) throw new Error('README.md has no "Adding it to your application" section');
  const end = readme.indexOf('\n## ', start + 3);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const snippets = new Map<string, string>();
  for (const m of section.matchAll(/```js\n([\s\S]*?)```/g)) snippets.set(m[1].split('\n')[0].trim(), m[1]);
  return snippets;
}

export function snippet(key: string): string {
  const text = readmeSnippets().get(key);
  if (!text) throw new Error(`README.md's "Adding it to your application" has no code block starting with ${key}`);
  return text;
}

/** The environment of a user's shell: our test settings removed, then `extra`. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(SPARSE_|OCEANBASE_|DATABASE_URL$|DASHSCOPE_)/.test(name)) delete env[name];
  return { ...env, ...extra };
}
