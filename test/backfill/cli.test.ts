import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { collectChecked, ROOT, run, startAt, umzug } from '../support/cli';
import { checkTable, jsonLines, storedJson, upgrade, waitUntil } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

function startSeed(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'umzug.js'), 'seed', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, done: collectChecked(child, env, 120_000) };
}

describe('the seeder as a user runs it', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    db = await createTestDatabase('seedcli');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 2000, emptyRate: 0.01 });
    await upgrade(db);
    // A key the runs never need: it must not appear in any output, also of a killed run.
    env = db.env({
      SPARSE_VECTOR_STORAGE: 'json',
      OCEANBASE_COLLECTION: 'memories',
      SPARSE_EMBEDDER_API_KEY: 'sk-SEEDCLI-0f1e2d3c4b5a',
    });
  });
  afterAll(async () => db.drop());

  const embeddedCount = async (): Promise<number> => {
    const [[row]] = await db.knex.raw('SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NOT NULL');
    return Number(row.n);
  };

  test('SIGKILL at 10 random points while the application writes too, then re-run: every row right, none of its values overwritten', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const before = await checkTable(db);
    const APP_VECTOR = '[[499999,7]]';
    const appRows = new Set<string>();
    const isApp = (id: string) => appRows.has(id);
    let killedMidRun = 0;
    for (let i = 0; i < 10; i++) {
      // Keep work for the next kill to land in: when few rows are left, rows of ours go back to NULL.
      if ((await checkTable(db, undefined, 'memories', isApp)).nullEligible < 400) {
        await db
          .knex('memories')
          .whereNotNull('sparse_embedding')
          .whereNotIn('id', [...appRows])
          .whereRaw('RAND() < 0.6')
          .update({ sparse_embedding: null });
      }
      // ~2.5 s for the whole table (100 batches, 2 workers, 50 ms pauses): kills land at different points.
      const { child, done } = startSeed(
        [
          '--workers',
          '2',
          '--batch-size',
          '20',
          '--delay',
          '0.05',
          '--rerun',
          '--progress',
          'plain',
          '--progress-interval',
          '60',
        ],
        env,
      );
      // Kill at a random moment of the work itself (after the header, i.e. after start-up and the COUNT).
      await Promise.race([
        new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('Embedder:') && resolve())),
        done,
      ]);
      // Meanwhile the application gives a few rows still NULL a vector of its own.
      const free: Array<{ id: string }> = await db
        .knex('memories')
        .select('id')
        .whereNull('sparse_embedding')
        .whereRaw("document <> ''")
        .orderByRaw('RAND()')
        .limit(3);
      for (const { id } of free) {
        const n = await db
          .knex('memories')
          .where({ id })
          .whereNull('sparse_embedding')
          .update({ sparse_embedding: APP_VECTOR });
        if (n) appRows.add(String(id));
      }
      // ... and the kill lands once the run has written a random number of rows more (a state, not a time).
      const target = (await embeddedCount()) + 10 + Math.floor(Math.random() * 300);
      let ended = false;
      void done.finally(() => (ended = true)).catch(() => undefined);
      await waitUntil(async () => ended || (await embeddedCount()) >= target);
      const embeddedBefore = await embeddedCount(); // (a cheap count: the run goes on meanwhile)
      child.kill('SIGKILL');
      const r = await done;
      if (r.signal !== 'SIGKILL') expect(r.code).toBe(0); // finished before the kill
      const mid = await checkTable(db, undefined, 'memories', isApp);
      expect(mid.wrong).toEqual([]); // every stored vector is its row's own, whatever the moment of the kill
      expect(await embeddedCount()).toBeGreaterThanOrEqual(embeddedBefore); // nothing lost or undone
      if (r.signal === 'SIGKILL' && mid.nullEligible > 0) killedMidRun++;
    }
    expect(killedMidRun).toBeGreaterThanOrEqual(5);
    expect(appRows.size).toBeGreaterThan(0);
    // And once exactly at a write: the process stands at the failpoint with a batch embedded, not yet written
    // (one worker, so that no second worker can reach the failpoint before the kill lands).
    await db
      .knex('memories')
      .whereNotIn('id', [...appRows])
      .update({ sparse_embedding: null });
    const {
      child: at,
      done: atDone,
      reached,
    } = startAt(
      'backfill:before-write',
      ['seed', '--workers', '1', '--batch-size', '20', '--delay', '0', '--rerun', '--progress', 'none'],
      env,
    );
    await reached;
    at.kill('SIGKILL');
    const atResult = await atDone;
    expect({ signal: atResult.signal, code: atResult.code, out: atResult.stdout + atResult.stderr }).toEqual({
      signal: 'SIGKILL',
      code: null,
      out: 'FAILPOINT backfill:before-write\n',
    });
    expect((await checkTable(db, undefined, 'memories', isApp)).wrong).toEqual([]);

    const last = await umzug(
      ['seed', '--workers', '3', '--delay', '0', '--rerun', '--progress', 'plain'],
      env,
      120_000,
    );
    expect(last.code).toBe(0);
    const after = await checkTable(db, undefined, 'memories', isApp);
    expect(after).toMatchObject({ wrong: [], nullEligible: 0, embedded: before.nullEligible });
    const app: Array<{ sparse_embedding: unknown }> = await db
      .knex('memories')
      .select('sparse_embedding')
      .whereIn('id', [...appRows]);
    expect(app.map((r) => storedJson(r.sparse_embedding))).toEqual([...appRows].map(() => APP_VECTOR));
  }, 300_000); // 11 runs of the CLI: on a loaded 2-core machine it passed 60 s, and its writer then disturbed the next test

  test.each(['SIGINT', 'SIGTERM'] as const)(
    '%s while a batch is embedded but not yet written: that batch is written, the summary says how to resume, exit code 130',
    async (sig) => {
      await db.knex('memories').update({ sparse_embedding: null });
      await db.knex.schema.dropTableIfExists('sparse_vector_seeds');
      // The first batch (keyset order: the 10 lowest ids with a text) stands at the write's failpoint until
      // the signal arrives; then it goes on.
      const firstBatch: Array<{ id: string }> = await db
        .knex('memories')
        .select('id')
        .whereNull('sparse_embedding')
        .whereRaw("document REGEXP '[^[:space:]]'")
        .orderBy('id')
        .limit(10);
      const { child, done, reached } = startAt(
        `backfill:before-write:${sig}`,
        ['seed', '--workers', '1', '--batch-size', '10', '--delay', '0', '--rerun', '--progress', 'plain'],
        env,
      );
      await reached;
      child.kill(sig);
      const r = await done;
      expect(r.code).toBe(130);
      expect(r.stderr).toContain(`${sig} received: finishing the batches in flight, then stopping`);
      const written: Array<{ id: string; v: unknown }> = await db
        .knex('memories')
        .select('id', db.knex.raw('sparse_embedding IS NOT NULL AS v'))
        .whereIn(
          'id',
          firstBatch.map((x) => x.id),
        );
      expect(written.map((x) => Number(x.v))).toEqual(firstBatch.map(() => 1));
      const summary = /Migrated: ([\d,]+) \| Failed: 0 \| Changed during the run: 0 \| Still NULL: ([\d,]+)/.exec(
        r.stdout,
      );
      expect(summary).not.toBeNull();
      expect(r.stdout).toContain('Stopped before the end: in-flight batches were finished, nothing was lost.');
      expect(r.stdout).toContain('To resume, run the same command again: rows still NULL are picked up.');
      const mid = await checkTable(db);
      expect(mid.wrong).toEqual([]);
      // What the summary reports is exactly what is in the table: the batches in flight were written.
      expect(mid.embedded).toBe(Number(summary![1].replace(/,/g, '')));
      expect(mid.nullEligible).toBe(Number(summary![2].replace(/,/g, '')));
      expect(mid.nullEligible).toBeGreaterThan(0);
      const [ledger] = await db.knex('sparse_vector_seeds').select('status');
      expect(ledger.status).toBe('incomplete');
    },
  );

  test('3 shards in parallel: each row embedded once, all rows done', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const before = await checkTable(db);
    const shards = await Promise.all(
      [0, 1, 2].map((i) =>
        umzug(['seed', '--shard', `${i}/3`, '--workers', '2', '--delay', '0', '--rerun', '--json'], env, 120_000),
      ),
    );
    const done = shards.map((r) => {
      expect(r.code).toBe(0);
      const events = jsonLines(r.stdout);
      return events.find((e) => e.event === 'done');
    });
    // Each shard wrote its own rows: counts add up to the table, nothing was skipped as already written.
    expect(done.reduce((a, d) => a + d.migrated, 0)).toBe(before.nullEligible);
    expect(done.every((d) => d.changed === 0 && d.migrated > 0)).toBe(true);
    // CRC32 spreads the Snowflake ids evenly over the shards.
    for (const d of done) expect(d.migrated / before.nullEligible).toBeGreaterThan(0.25);
    for (const d of done) expect(d.migrated / before.nullEligible).toBeLessThan(0.42);
    const after = await checkTable(db);
    expect(after).toMatchObject({ wrong: [], nullEligible: 0 });
    const [seed] = await db.knex('sparse_vector_seeds').select('status');
    expect(seed.status).toBe('done');
    // Done: a plain run (no --rerun) reads the ledger and stops, exit 0; --json still ends with a done event.
    const again = await umzug(['seed', '--json'], env);
    expect(again.code).toBe(0);
    const last = jsonLines(again.stdout);
    expect(last[0]).toMatchObject({ event: 'message', text: expect.stringContaining('is already done') });
    expect(last[last.length - 1]).toMatchObject({ event: 'done', skippedReason: 'already-done', migrated: 0 });
  });

  (spawnSync('script', ['--version']).status === 0 ? test : test.skip)(
    'progress on a real pseudo-terminal (util-linux script): auto mode picks the terminal renderer',
    async () => {
      await db.knex('memories').update({ sparse_embedding: null });
      const dry = ['seed', '--dry-run', '--limit', '300', '--batch-size', '20', '--workers', '3', '--delay', '0.01'];
      const cmd = [process.execPath, path.join(ROOT, 'bin', 'umzug.js'), ...dry]
        .map((a) => JSON.stringify(a))
        .join(' ');
      const pty = await run('script', ['-qfec', cmd, '/dev/null'], { env });
      expect(pty.code).toBe(0);
      expect(pty.stdout).toMatch(/Total: \[█+\] 100\.0% \| 300\/300/);
      expect(pty.stdout).toContain('\x1b[2K');
    },
  );

  test('progress through the CLI: tty (forced), plain lines, JSON events', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    // Dry runs: the table is not touched.
    const dry = ['seed', '--dry-run', '--limit', '300', '--batch-size', '20', '--workers', '3', '--delay', '0.01'];
    const tty = await umzug([...dry, '--progress', 'tty'], env);
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain('[DRY RUN] Mode enabled - will only test with 300 records (nothing is written)');
    expect(tty.stdout).toMatch(/Total: \[█{30}\] 100\.0% \| 300\/300/);
    expect(tty.stdout).toMatch(/ {2}✓ Migrated: 300 \| ✗ Failed: 0/);
    expect(tty.stdout).toMatch(/ {2}⏱ Elapsed: [\d.]+s \| Remaining: ~[\d.]+s \| 📊 [\d.]+ rec\/s/);
    expect(tty.stdout).toContain('Workers (3):');
    for (const i of [0, 1, 2]) expect(tty.stdout).toMatch(new RegExp(` {2}Worker ${i}: ✓ [\\d,]+ \\| ✗ 0`));
    expect(tty.stdout).toMatch(/\x1b\[\d+A\r\x1b\[J/); // redrawn in place: cursor up, clear below
    expect(tty.stdout).toContain('Nothing was written.');

    const plain = await umzug([...dry, '--progress', 'plain', '--progress-interval', '0'], env);
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toContain('\x1b[');
    const lines = plain.stdout.split('\n').filter((l) => l.startsWith('progress '));
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines)
      expect(l).toMatch(
        /^progress [\d.]+% [\d,]+\/300 migrated=[\d,]+ failed=0 [\d.]+ rec\/s elapsed [\d.]+s remaining ~[\d.?]+s? workers=\[\d+\/0 \d+\/0 \d+\/0\]$/,
      );
    expect(lines[lines.length - 1]).toMatch(/^progress 100\.0% 300\/300 migrated=300 /);

    const json = await umzug([...dry, '--json'], env);
    expect(json.code).toBe(0);
    const events = jsonLines(json.stdout); // every line is JSON
    expect(events[0]).toMatchObject({
      event: 'start',
      total: 300,
      batchSize: 20,
      workers: 3,
      dryRun: true,
      embedder: 'local',
    });
    const progress = events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[progress.length - 1]).toMatchObject({ processed: 300, total: 300, done: true });
    expect(progress[progress.length - 1].workers).toHaveLength(3);
    expect(events[events.length - 1]).toMatchObject({
      event: 'done',
      ok: true,
      dryRun: true,
      migrated: 300,
      failed: 0,
      wouldWrite: { rows: 300 },
    });
    expect((await checkTable(db)).embedded).toBe(0);
  });

  test('npx knex seed:run runs the same seeder (options from SPARSE_BACKFILL_*)', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const r = await run('npx', ['--no-install', 'knex', 'seed:run'], {
      env: { ...env, SPARSE_BACKFILL_WORKERS: '2', SPARSE_BACKFILL_DELAY: '0', SPARSE_BACKFILL_RERUN: 'true' },
      timeoutMs: 120_000,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Thread pool size: 2');
    expect(r.stdout).toContain('Ran 1 seed files');
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
  });

  test('bad options: clear error, non-zero exit, table untouched', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    for (const [args, message] of [
      [['--batch-size', '0'], '--batch-size "0" is not a whole number from 1 to 10000.'],
      [['--workers', '1000'], '--workers "1000" is not a whole number from 1 to 64.'],
      [['--delay', '-1'], '--delay "-1" is not a number from 0 to 3600.'],
      [['--shard', '3/3'], '--shard "3/3" is not a shard "i/n" with 0 <= i < n <= 1024.'],
    ] as const) {
      const r = await umzug(['seed', ...args], env);
      expect({ code: r.code, stderr: r.stderr.split('\n')[0] }).toEqual({
        code: 2,
        stderr: `Error [USAGE]: ${message}`,
      });
    }
    expect((await checkTable(db)).embedded).toBe(0);
  });
});
