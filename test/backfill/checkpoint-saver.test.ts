import { CheckpointSaver } from '../../src/backfill/checkpoint-saver';
import { SeedLedger } from '../../src/backfill/seed-ledger';
import { onFailpoint } from '../../src/util/failpoint';
import { waitUntil } from '../support/backfill';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { Points } from '../support/points';

/*
 * The checkpoint saver writes the run's checkpoint to the seeds ledger one save at a time. At the run's end the
 * seeder waits for it (settled()) and then clears the checkpoint: a save still running after settled() would
 * write the checkpoint back after the clear (seen in a CI run: a finished run left { remaining: 0 } behind).
 */

const SEEDS = 'sparse_vector_seeds';
const NAME = 'saver-test';
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('cpsaver');
  const ledger = new SeedLedger(SEEDS);
  await ledger.ensureTable(db.knex);
  await ledger.ensureCheckpointColumn(db.knex);
  await db.knex(SEEDS).insert({ name: NAME, status: 'running' });
});
afterAll(async () => db.drop());

const stored = async () =>
  JSON.parse((await db.knex(SEEDS).where({ name: NAME }).first('resume_checkpoint')).resume_checkpoint);

test('settled() waits for every save, the one a finished save starts included; the newest checkpoint is stored', async () => {
  const saver = new CheckpointSaver(db.knex, new SeedLedger(SEEDS), NAME, {
    table: 'memories',
    column: 'sparse_embedding',
  });
  // Each of the first two saves is held after its UPDATE until the test opens it.
  const points = new Points().hold('save 1', 'save 2');
  let saves = 0;
  const off = onFailpoint('seeder:checkpoint-saved', async () => {
    const n = ++saves;
    if (n <= 2) await points.pass(`save ${n}`);
  });
  const reached = (name: string) => waitUntil(() => points.log.includes(name));
  try {
    saver.offer({ after: '10', remaining: 100, skipped: 0 }); // the first save starts at once
    saver.offer({ after: '20', remaining: 50, skipped: 0 }); // moved by half: due as soon as the first ends
    await reached('save 1');
    let isSettled = false;
    const settled = saver.settled().then(() => void (isSettled = true));
    points.open('save 1'); // the first save ends; its end starts the second
    await reached('save 2');
    expect(isSettled).toBe(false); // the second save is still running
    points.open('save 2');
    await settled;
    expect(await stored()).toMatchObject({ after: '20', remaining: 50 });
    expect(saves).toBe(2);
  } finally {
    off();
    points.open('save 1');
    points.open('save 2');
  }
});
