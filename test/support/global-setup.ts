import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Jest global setup: every database test talks to a real MariaDB server. Unless SPARSE_TEST_DATABASE_URL
 * points at one, the project's private instance is started (or reused) with scripts/db.sh, which also
 * installs Debian's mariadb-server when it is missing. Tests create and drop their own databases in it.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.SPARSE_TEST_DATABASE_URL) return;
  const root = path.resolve(__dirname, '..', '..');
  const script = path.join(root, 'scripts', 'db.sh');
  execFileSync('bash', [script, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.env.SPARSE_TEST_DATABASE_URL = execFileSync('bash', [script, 'url'], { encoding: 'utf8' }).trim();
}
