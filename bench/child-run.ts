/** Runs one backfill (bench/backfill-child.ts) in a process of its own and reads its summary. */
import { spawn } from 'node:child_process';
import path from 'node:path';

const CHILD = path.join(__dirname, 'backfill-child.js');

export interface ChildSummary {
  migrated: number;
  failed: number;
  workers: number;
  seconds: number;
  maxRssMb: number;
  /** With `liveHeapProbe`: the largest heap in use right after a full collection, sampled every second. */
  liveHeapMb?: number;
  read?: unknown;
  eventLoopUtilization: number;
  nodeCpuSeconds: number;
  runSeconds: number;
}

/**
 * Run one backfill in a child process. With `killAt`, the child reports its progress (rows written) on
 * stdout and is killed with SIGKILL once it has written that many rows (no polling of the table).
 * `nodeFlags` go to the child's node (e.g. `--expose-gc` for the live-heap probe).
 */
export function child(
  args: Record<string, unknown>,
  killAt?: number,
  nodeFlags: string[] = [],
): Promise<ChildSummary | undefined> {
  return new Promise((resolve, reject) => {
    // Arguments go through stdin: a command line (with the database URL and its password) is visible in ps.
    const p = spawn(process.execPath, [...nodeFlags, CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    p.stdin.end(JSON.stringify({ ...args, reportProgress: killAt !== undefined }));
    let out = '';
    let checked = 0;
    p.stdout.on('data', (d) => {
      out += d;
      if (killAt === undefined) return;
      const end = out.lastIndexOf('\n');
      for (const line of out.slice(checked, end).split('\n')) {
        const m = /^\{"written":(\d+)\}$/.exec(line.trim());
        if (m && Number(m[1]) >= killAt) p.kill('SIGKILL');
      }
      checked = end + 1;
    });
    p.on('close', (code, signal) => {
      if (signal === 'SIGKILL') return resolve(undefined);
      if (code !== 0) return reject(new Error(`backfill child exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}
