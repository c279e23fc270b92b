import path from 'node:path';
import { checkTable, upgrade } from '../support/backfill';
import { ROOT, umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';
import { hasScript, startOnPty } from '../support/pty';

/**
 * The downgrade's confirmation on a real pseudo-terminal: Ctrl-C stops the command (exit 130), Ctrl-D (end of
 * input) counts as "no" (exit 1); both end the command promptly and leave the database as it was.
 */
(hasScript ? describe : describe.skip)('downgrade confirmation on a terminal: Ctrl-C and Ctrl-D', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const downgrade = [process.execPath, path.join(ROOT, 'bin', 'sparse-vector.js'), 'run', 'downgrade-sparse-vector'];
  beforeAll(async () => {
    db = await createTestDatabase('prompt');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 20 });
    env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
    await upgrade(db);
    expect((await umzug(['seed'], env)).code).toBe(0);
  });
  afterAll(async () => db.drop());

  async function unchanged() {
    expect(await db.knex.schema.hasColumn('memories', 'sparse_embedding')).toBe(true);
    expect((await checkTable(db)).embedded).toBeGreaterThan(0);
    expect(await db.knex('sparse_vector_migrations').pluck('name')).toEqual(['20250601000000_add_sparse_vector']);
  }

  test('Ctrl-C at "Confirm to continue?" exits 130 and changes nothing', async () => {
    const pty = startOnPty(downgrade, env);
    await pty.waitFor('Confirm to continue? (yes/no) ');
    pty.type('\x03');
    const r = await pty.done;
    const text = r.stdout.replace(/\r/g, '');
    expect(text).toContain('Error [INTERRUPTED]: Stopped at the confirmation (Ctrl-C): nothing was changed.');
    expect(r.code).toBe(130);
    await unchanged();
  }, 120_000);

  test('Ctrl-D (end of input) at "Confirm to continue?" counts as no: exit 1, a clear message, nothing changed', async () => {
    const pty = startOnPty(downgrade, env);
    await pty.waitFor('Confirm to continue? (yes/no) ');
    pty.type('\x04');
    const r = await pty.done;
    const text = r.stdout.replace(/\r/g, '');
    expect(text).toContain(
      'Error [CONFIRMATION_REQUIRED]: Downgrade cancelled: nothing was changed.\n  To delete them, run it again and answer yes, or run it with --yes.',
    );
    expect(r.code).toBe(1);
    await unchanged();
  }, 120_000);
});
