import { runBackfill, runSeeder } from '../../src/backfill';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import type { SparseEmbedder } from '../../src/embedders/types';
import { seedLockName } from '../../src/backfill/schema-guard';
import { onFailpoint } from '../../src/util/failpoint';
import { checkTable, gated, portableConfig, resetBackfill, storedJson, upgrade, waitUntil } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/**
 * The backfill's promises, each with the race or fault created on purpose at a known point (the write's
 * failpoint, held gates), so that a run can only pass when the promise holds.
 */

/** The ids of the first batch a run takes (keyset order: the lowest ids with a text still NULL). */
async function firstIds(db: TestDatabase, n: number): Promise<string[]> {
  const rows: Array<{ id: string }> = await db
    .knex('memories')
    .select('id')
    .whereNull('sparse_embedding')
    .whereRaw("document REGEXP '[^[:space:]]'")
    .orderBy('id')
    .limit(n);
  return rows.map((r) => String(r.id));
}

/** The local embedder, remembering every text whose embedding it has returned. */
function recording(): { embedder: SparseEmbedder; embedded: Set<string> } {
  const inner = new LocalSparseEmbedder();
  const embedded = new Set<string>();
  return {
    embedded,
    embedder: {
      provider: inner.provider,
      model: inner.model,
      maxBatchSize: inner.maxBatchSize,
      maxIndex: inner.maxIndex,
      async embedDocuments(texts) {
        const vectors = await inner.embedDocuments(texts);
        for (const t of texts) embedded.add(t);
        return vectors;
      },
      embedQuery: (t) => inner.embedQuery(t),
    },
  };
}

describe('guarantees, with the race or fault made on purpose', () => {
  let db: TestDatabase;
  let removeHook: (() => void) | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('guarantees');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 90, emptyRate: 0, duplicateRate: 0 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());
  beforeEach(async () => resetBackfill(db));
  afterEach(() => removeHook?.());

  test("an application write between a batch's read and its write is kept; a text changed there never gets the old text's vector", async () => {
    const APP_VECTOR = '[[424242,1]]';
    const batch = await firstIds(db, 10);
    let injected = false;
    // At the first write, the batch is read and embedded: the application now writes two of its rows and
    // rewrites the text of a third.
    removeHook = onFailpoint('backfill:before-write', async () => {
      if (injected) return;
      injected = true;
      await db.knex('memories').whereIn('id', [batch[0], batch[3]]).update({ sparse_embedding: APP_VECTOR });
      await db.knex('memories').where({ id: batch[6] }).update({ document: 'rewritten by the application meanwhile' });
    });
    const s = await runBackfill({
      config: portableConfig(db),
      workers: 1,
      batchSize: 10,
      delaySeconds: 0,
      progress: 'none',
    });
    expect(injected).toBe(true);
    expect(s).toMatchObject({ ok: true, changed: 3, failed: 0 });
    const rows: Array<{ id: string; sparse_embedding: unknown }> = await db
      .knex('memories')
      .select('id', 'sparse_embedding')
      .whereIn('id', [batch[0], batch[3], batch[6]])
      .orderBy('id');
    const byId = new Map(
      rows.map((r) => [String(r.id), r.sparse_embedding === null ? null : storedJson(r.sparse_embedding)]),
    );
    expect([byId.get(batch[0]), byId.get(batch[3])]).toEqual([APP_VECTOR, APP_VECTOR]);
    // Every other stored vector is the embedding of its row's current text: the rewritten row was not written
    // with the old text's vector, and the final sweep took it again, with its new text (one row swept).
    expect(byId.get(batch[6])).not.toBeNull();
    expect(s.read).toMatchObject({ sweep: 1 });
    const check = await checkTable(db, undefined, 'memories', (id) => id === batch[0] || id === batch[3]);
    expect(check).toMatchObject({ wrong: [], nullEligible: 0 });
  });

  test('a stop while a batch is embedded but not yet written: every embedded row is written, nothing new is started', async () => {
    const controller = new AbortController();
    const rec = recording();
    removeHook = onFailpoint('backfill:before-write', () => controller.abort()); // the first write is about to run
    const s = await runBackfill({
      config: portableConfig(db),
      embedder: rec.embedder,
      workers: 2,
      batchSize: 10,
      delaySeconds: 0,
      progress: 'none',
      signal: controller.signal,
    });
    expect(s).toMatchObject({ stopped: true, failed: 0 });
    expect(rec.embedded.size).toBeGreaterThanOrEqual(10);
    const rows: Array<{ document: string; sparse_embedding: unknown }> = await db
      .knex('memories')
      .select('document', 'sparse_embedding');
    const embeddedButNull = rows.filter((r) => rec.embedded.has(r.document) && r.sparse_embedding === null);
    expect(embeddedButNull).toEqual([]);
    expect(s.migrated).toBe(rec.embedded.size);
    expect(s.remaining).toBe(90 - s.migrated);
    expect(s.remaining).toBeGreaterThan(0); // it did stop
  });

  const orders = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  test.each(orders)(
    "three shards running at once, finishing in the order %i, %i, %i: 'done' only when the last one finishes",
    async (...order) => {
      const runs = [0, 1, 2].map((index) => {
        const gate = gated();
        const result = runSeeder({
          config: portableConfig(db),
          embedder: gate.embedder,
          shard: { index, count: 3 },
          workers: 1,
          batchSize: 10,
          delaySeconds: 0,
          progress: 'none',
        });
        return { gate, result };
      });
      // All three have taken their shard's lock, started the ledger and are held at their first batch.
      await Promise.all(runs.map((r) => r.gate.entered));
      const statuses: string[] = [];
      for (const i of order) {
        runs[i].gate.open();
        const r = await runs[i].result;
        expect(r).toMatchObject({ ok: true, failed: 0, remaining: 0 });
        statuses.push((await db.knex('sparse_vector_seeds').first('status', 'runs')).status);
      }
      expect(statuses).toEqual(['incomplete', 'incomplete', 'done']);
      expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
    },
  );

  test("a shard that finishes while another shard's rows are still NULL does not record done, even if it ends last", async () => {
    // Shard 0 alone (the others never run): its own rows are all written, the table's are not.
    const r = await runSeeder({
      config: portableConfig(db),
      shard: { index: 0, count: 3 },
      delaySeconds: 0,
      progress: 'none',
    });
    expect(r).toMatchObject({ ok: true, remaining: 0 });
    expect((await db.knex('sparse_vector_seeds').first('status')).status).toBe('incomplete');
  });

  test('a backfill whose lock is lost (its connection killed by the server) goes on, and every value it writes is right', async () => {
    const gate = gated();
    const run = runSeeder({
      config: portableConfig(db),
      embedder: gate.embedder,
      workers: 1,
      batchSize: 10,
      delaySeconds: 0,
      progress: 'none',
    });
    await gate.entered;
    const name = seedLockName(db.name, 'memories');
    const [[holder]] = await db.knex.raw('SELECT IS_USED_LOCK(?) AS id', [name]);
    expect(holder.id).not.toBeNull();
    await db.knex.raw(`KILL CONNECTION ${Number(holder.id)}`);
    // The lock goes with its connection (KILL returns before the server has ended the session: wait for it).
    await waitUntil(async () => {
      const [[after]] = await db.knex.raw('SELECT IS_FREE_LOCK(?) AS free', [name]);
      return Number(after.free) === 1;
    });
    gate.open();
    expect(await run).toMatchObject({ ok: true, failed: 0, remaining: 0, migrated: 90 });
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
  });
});
