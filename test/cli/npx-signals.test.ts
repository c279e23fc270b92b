import { execFileSync, spawn } from 'node:child_process';
import { checkTable, upgrade } from '../support/backfill';
import { collect, ROOT } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/** The pids of every process below `pid` (children, grandchildren, …). */
function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const pairs = out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (p: number) =>
    pairs.filter(([, parent]) => parent === p).forEach(([child]) => (found.push(child), walk(child)));
  walk(pid);
  return found;
}

/** Whether `pid` is still running (an exited process its new parent has not reaped yet, a zombie, is not). */
function running(pid: number): boolean {
  try {
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' })
      .trim()
      .startsWith('Z');
  } catch {
    return false; // ps exits 1: no such process
  }
}

/**
 * `npx umzug seed` is npm -> sh -> node; process managers and `timeout` signal the process they started (npm),
 * which passes SIGTERM to `sh` only. The backfill must still stop gracefully and leave no orphan behind.
 */
describe('SIGTERM to the npx process', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('npxsig');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 600 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());

  test('stops the backfill gracefully (in-flight batches written, how to resume), and the node process is gone', async () => {
    const env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
    const args = ['--no-install', 'umzug', 'seed', '--batch-size', '10', '--delay', '0.2', '--progress', 'plain'];
    const npx = spawn('npx', args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(npx, 120_000);
    // Started (or ended early: then the assertions below say why, instead of a timeout).
    const started = new Promise<void>((resolve) =>
      npx.stdout.on('data', (d) => String(d).includes('Embedder:') && resolve()),
    );
    await Promise.race([started, done]);
    const node = descendants(npx.pid!).filter((pid) =>
      execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).includes('umzug seed'),
    );
    const backfill = node.find(
      (pid) => execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).trim() === 'node',
    );
    expect(backfill).toBeDefined();
    npx.kill('SIGTERM');
    // The pipes close only when every process holding them (npm, and an orphan too) has exited.
    const r = await done;
    expect(running(backfill!)).toBe(false);
    expect(r.stderr).toContain('SIGTERM received: finishing the batches in flight, then stopping');
    expect(r.stdout).toContain('To resume, run the same command again: rows still NULL are picked up.');
    const mid = await checkTable(db);
    expect(mid.wrong).toEqual([]);
    expect(mid.nullEligible).toBeGreaterThan(0);
    const [locks] = await db.knex.raw(
      "SELECT IS_FREE_LOCK(CONCAT('sparse-vector:seed:', DATABASE(), '.memories')) AS free",
    );
    expect(Number(locks[0].free)).toBe(1);
  }, 180_000);
});
