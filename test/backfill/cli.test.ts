import { spawn } from 'node:child_process';
import path from 'node:path';
import { collect, ROOT, run, umzug } from '../support/cli';
import { checkTable, upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

function startSeed(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'umzug.js'), 'seed', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, done: collect(child, 120_000) };
}

describe('the seeder as a user runs it', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    db = await createTestDatabase('seedcli');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 2000, emptyRate: 0.01 });
    await upgrade(db);
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterAll(async () => db.drop());

  test('SIGKILL at random points, then re-run: all rows embedded with their own text, none overwritten', async () => {
    const before = await checkTable(db);
    for (let i = 0; i < 5; i++) {
      const { child, done } = startSeed(['--workers', '2', '--batch-size', '20', '--delay', '0.01', '--rerun', '--progress', 'none'], env);
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 500)));
      child.kill('SIGKILL');
      const r = await done;
      if (r.signal !== 'SIGKILL') expect(r.code).toBe(0); // finished before the kill
      const mid = await checkTable(db);
      expect(mid.wrong).toEqual([]);
    }
    const last = await umzug(['seed', '--workers', '3', '--delay', '0', '--rerun', '--progress', 'plain'], env, 120_000);
    expect(last.code).toBe(0);
    const after = await checkTable(db);
    expect(after).toMatchObject({ wrong: [], nullEligible: 0, embedded: before.nullEligible });
  });

  test('SIGINT: in-flight batches finish, the summary says how to resume, exit code 130', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const { child, done } = startSeed(['--workers', '2', '--batch-size', '10', '--delay', '0.2', '--rerun', '--progress', 'plain'], env);
    await new Promise<void>((resolve) => child.stdout!.on('data', (d) => String(d).includes('Embedder:') && resolve()));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('SIGINT received: finishing the batches in flight, then stopping');
    expect(r.stdout).toMatch(/Migrated: [\d,]+ \| Failed: 0 \| Changed during the run: 0 \| Still NULL: [\d,]+/);
    expect(r.stdout).toContain('Stopped before the end: in-flight batches were finished, nothing was lost.');
    expect(r.stdout).toContain('To resume, run the same command again: rows still NULL are picked up.');
    const mid = await checkTable(db);
    expect(mid.wrong).toEqual([]);
    expect(mid.nullEligible).toBeGreaterThan(0);
    expect(mid.embedded).toBeGreaterThan(0);
  });

  test('3 shards in parallel: each row embedded once, all rows done', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const before = await checkTable(db);
    const shards = await Promise.all([0, 1, 2].map((i) => umzug(['seed', '--shard', `${i}/3`, '--workers', '2', '--delay', '0', '--rerun', '--json'], env, 120_000)));
    const done = shards.map((r) => {
      expect(r.code).toBe(0);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      return events.find((e) => e.event === 'done');
    });
    // Each shard wrote its own rows: counts add up to the table, nothing was skipped as already written.
    expect(done.reduce((a, d) => a + d.migrated, 0)).toBe(before.nullEligible);
    expect(done.every((d) => d.skipped === 0 && d.migrated > 0)).toBe(true);
    const after = await checkTable(db);
    expect(after).toMatchObject({ wrong: [], nullEligible: 0 });
    const [seed] = await db.knex('sparse_vector_seeds').select('status');
    expect(seed.status).toBe('done');
  });

  test('npx knex seed:run runs the same seeder (options from SPARSE_BACKFILL_*)', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const r = await run('npx', ['--no-install', 'knex', 'seed:run'], { env: { ...env, SPARSE_BACKFILL_WORKERS: '2', SPARSE_BACKFILL_DELAY: '0', SPARSE_BACKFILL_RERUN: 'true' }, timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Thread pool size: 2');
    expect(r.stdout).toContain('Ran 1 seed files');
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
  });

  test('bad options: clear error, non-zero exit, table untouched', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    for (const [args, message] of [
      [['--batch-size', '0'], '--batch-size="0" is not an integer between 1 and 10000.'],
      [['--workers', '1000'], '--workers="1000" is not an integer between 1 and 64.'],
      [['--delay', '-1'], '--delay="-1" is not a number between 0 and 3600.'],
      [['--shard', '3/3'], '--shard "3/3" is not a shard "i/n" with 0 <= i < n <= 1024.'],
    ] as const) {
      const r = await umzug(['seed', ...args], env);
      expect({ code: r.code, stderr: r.stderr.split('\n')[0] }).toEqual({ code: 1, stderr: `Error [CONFIG_INVALID]: ${message}` });
    }
    expect((await checkTable(db)).embedded).toBe(0);
  });
});
