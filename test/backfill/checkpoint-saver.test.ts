import { CheckpointSaver } from '../../src/backfill/checkpoint-saver';
import { SeedLedger } from '../../src/backfill/seed-ledger';
import { onFailpoint } from '../../src/util/failpoint';
import { waitUntil } from '../support/backfill';
import { createTestDatabase, type TestDatabase } from '../support/db';

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

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const stored = async () =>
  JSON.parse((await db.knex(SEEDS).where({ name: NAME }).first('resume_checkpoint')).resume_checkpoint);

test('settled() waits for every save, the one a finished save starts included; the newest checkpoint is stored', async () => {
  const saver = new CheckpointSaver(db.knex, new SeedLedger(SEEDS), NAME, {
    table: 'memories',
    column: 'sparse_embedding',
  });
  const gates = [deferred(), deferred()];
  const held = [false, false];
  let saves = 0;
  const off = onFailpoint('seeder:checkpoint-saved', async () => {
    const n = saves++;
    if (n > 1) return;
    held[n] = true;
    await gates[n].promise;
  });
  try {
    saver.offer({ after: '10', remaining: 100, skipped: 0 }); // the first save starts at once
    saver.offer({ after: '20', remaining: 50, skipped: 0 }); // moved by half: due as soon as the first ends
    await waitUntil(() => held[0]);
    let isSettled = false;
    const settled = saver.settled().then(() => void (isSettled = true));
    gates[0].resolve(); // the first save ends; its end starts the second
    await waitUntil(() => held[1]);
    expect(isSettled).toBe(false); // the second save is still running
    gates[1].resolve();
    await settled;
    expect(await stored()).toMatchObject({ after: '20', remaining: 50 });
    expect(saves).toBe(2);
  } finally {
    off();
    gates.forEach((g) => g.resolve());
  }
});
