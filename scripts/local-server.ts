import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The project's private MariaDB (scripts/db.sh): started or reused when no database is configured, for the
 * demo, the examples, the benchmarks and the soak of this repository (not part of the published package).
 * Returns its URL.
 */
export function startLocalServer(): string {
  // From source this file sits next to db.sh; compiled, it is dist/scripts/local-server.js.
  const beside = path.resolve(__dirname, 'db.sh');
  const file = fs.existsSync(beside) ? beside : path.resolve(__dirname, '..', '..', 'scripts', 'db.sh');
  execFileSync('bash', [file, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return execFileSync('bash', [file, 'url'], { encoding: 'utf8' }).trim();
}
