import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The project's private MariaDB (scripts/db.sh): started or reused when no database is configured, for the
 * demo and the examples. Returns its URL.
 */
export function startLocalServer(): string {
  const script = path.resolve(__dirname, '..', '..', 'scripts', 'db.sh');
  const fromSource = path.resolve(__dirname, '..', 'scripts', 'db.sh');
  const file = fs.existsSync(script) ? script : fromSource;
  execFileSync('bash', [file, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return execFileSync('bash', [file, 'url'], { encoding: 'utf8' }).trim();
}
