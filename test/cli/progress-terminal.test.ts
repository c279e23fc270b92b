import path from 'node:path';
import { displayWidth } from '../../src/backfill/progress/width';
import { checkTable, upgrade } from '../support/backfill';
import { ROOT } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';
import { hasScript, startOnPty } from '../support/pty';

const UMZUG = [process.execPath, path.join(ROOT, 'bin', 'umzug.js')];

/** Every line the terminal renderer drew in place ("\x1b[2K…" up to the end of the line). */
function redrawnLines(screen: string): string[] {
  return [...screen.matchAll(/\x1b\[2K([^\n]*)/g)].map((m) => m[1].replace(/\r$/, ''));
}

/**
 * The backfill's progress on a real pseudo-terminal (util-linux script): the bar fits a narrow terminal, the
 * last frame after Ctrl-C is whole and says how many rows are left, and the README's three shards on one
 * terminal each print readable, prefixed lines.
 */
(hasScript ? describe : describe.skip)('progress on a terminal', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    db = await createTestDatabase('progresstty');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 300 });
    await upgrade(db);
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
  });
  afterAll(async () => db.drop());

  test('at 40 columns every redrawn line fits in 39 columns and clears the rest of its row', async () => {
    const pty = startOnPty(
      [...UMZUG, 'seed', '--dry-run', '--limit', '300', '--batch-size', '20', '--workers', '3', '--delay', '0.01'],
      env,
      { cols: 40 },
    );
    const r = await pty.done;
    expect(r.code).toBe(0);
    const lines = redrawnLines(r.stdout);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      expect(line.endsWith('\x1b[K')).toBe(true);
      expect(displayWidth(line.replace(/\x1b\[K$/, ''))).toBeLessThanOrEqual(39);
    }
    expect(r.stdout).toMatch(/Total: \[█+\] 100\.0% \| (\d+)\/\1\x1b\[K/);
  }, 120_000);

  test('Ctrl-C: the last frame is drawn whole after the signal message and says how many rows are left', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const pty = startOnPty([...UMZUG, 'seed', '--batch-size', '10', '--delay', '0.3', '--rerun'], env, { cols: 100 });
    await pty.waitFor('Total: [');
    pty.type('\x03');
    const r = await pty.done;
    expect(r.code).toBe(130);
    const screen = r.stdout.replace(/\r/g, '');
    const after = screen.slice(screen.indexOf('SIGINT received'));
    const summary = /Still NULL: ([\d,]+)/.exec(after);
    expect(summary).not.toBeNull();
    const left = Number(summary![1].replace(/,/g, ''));
    expect(left).toBe((await checkTable(db)).nullEligible);
    expect(left).toBeGreaterThan(0);
    // The final frame, whole, after the signal's message: bar, counts, and the rows left (not "~0.0s").
    expect(after).toMatch(
      new RegExp(
        `Total: \\[[█░]+\\] +[\\d.]+% \\| [\\d,]+/[\\d,]+\\x1b\\[K\\n\\x1b\\[2K  ✓ Migrated: [\\d,]+ \\| ✗ Failed: 0\\x1b\\[K\\n` +
          `\\x1b\\[2K  ⏱ Elapsed: [\\d.ms ]+ \\| Remaining: ${summary![1]} rows \\(run again to continue\\) \\| 📊`,
      ),
    );
    expect(after).not.toContain('Remaining: ~0.0s');
  }, 120_000);

  test("the README's three shards on one terminal: plain lines prefixed by the shard, no redraws, three summaries", async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const seed = (i: number) => [...UMZUG, 'seed', '--shard', `${i}/3`, '--rerun'].map((a) => `'${a}'`).join(' ');
    const pty = startOnPty(['sh', '-c', `${seed(0)} & ${seed(1)} & ${seed(2)} & wait`], env, { cols: 80 });
    const r = await pty.done;
    expect(r.code).toBe(0);
    const screen = r.stdout.replace(/\r/g, '');
    expect(screen).not.toMatch(/\x1b\[\d+A/);
    for (const i of [0, 1, 2]) {
      expect(screen).toMatch(new RegExp(`^\\[shard ${i}/3\\] Total records to migrate: \\d+ \\(shard ${i}/3\\)$`, 'm'));
      expect(screen).toMatch(new RegExp(`^\\[shard ${i}/3\\] progress 100\\.0% `, 'm'));
      expect(screen).toMatch(
        new RegExp(
          `^\\[shard ${i}/3\\] Migrated: [\\d,]+ \\| Failed: 0 \\| Changed during the run: 0 \\| Still NULL: 0 `,
          'm',
        ),
      );
    }
    expect((await checkTable(db)).nullEligible).toBe(0);
  }, 120_000);
});
