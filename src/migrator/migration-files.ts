import fs from 'node:fs';
import path from 'node:path';

/**
 * Where the package's own migrations and seeders are, for both layouts:
 * run from source (src/migrator/*.ts, loaded through ts-jest or a TS loader) they are ./migrations/*.ts;
 * run compiled (dist/src/migrator/*.js) they are dist/migrations/*.js. Names carry no extension, so the
 * ledger matches whichever form ran.
 */
const runningFromSource = __filename.endsWith('.ts');
const packageRoot = path.resolve(__dirname, '..', '..');

export const MIGRATIONS_DIR = path.join(packageRoot, 'migrations');
export const SEEDERS_DIR = path.join(packageRoot, 'seeders');
export const SCRIPT_EXTENSION = runningFromSource ? '.ts' : '.js';

export interface ScriptFile {
  /** File name without extension: the ledger key. */
  name: string;
  path: string;
}

export function listScriptFiles(dir: string, extension = SCRIPT_EXTENSION): ScriptFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(extension) && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => ({ name: f.slice(0, -extension.length), path: path.join(dir, f) }));
}

/** The shape every migration file exports: knex's migration interface (Umzug passes a knex instance too). */
export interface MigrationModule {
  up(knex: import('knex').Knex): Promise<void>;
  down(knex: import('knex').Knex): Promise<void>;
  config?: { transaction?: boolean };
}

export function loadMigrationModule(file: string): MigrationModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as MigrationModule;
}
