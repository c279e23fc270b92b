import fs from 'node:fs';
import path from 'node:path';

/**
 * CPU seconds (user + system) the database server process has used so far, read from /proc/<pid>/stat of
 * the project's private instance (.db/mariadb.pid, see scripts/db.sh). Undefined when that instance is not
 * the one measured (SPARSE_BENCH_DATABASE_URL) or /proc is not there: the figures that need it are skipped.
 * Per-process CPU time is what the server spent on our statements, unaffected by other work on the machine.
 */
export function serverCpuReader(root: string): (() => number) | undefined {
  if (process.env.SPARSE_BENCH_DATABASE_URL) return undefined;
  const pidFile = path.join(process.env.SPARSE_DB_DIR ?? path.join(root, '.db'), 'mariadb.pid');
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const ticks = 100; // USER_HZ: 100 on Linux
  return () => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name "(...)": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  };
}
