import { createHash } from 'node:crypto';
import { writeBatchCounted } from '../../src/backfill/stats-writer';
import { openSchemaContext } from '../../src/schema/sparse-schema';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { toPortableJson } from '../../src/sparse/sparse-vector';
import { DOCUMENT_COUNT_KEY, prepareTermStats, termStatsTable } from '../../src/stats/term-stats';
import { portableConfig, storedJson, upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const STATS = termStatsTable('memories');

describe('writeBatchCounted: the statistics count exactly the rows the guarded write wrote', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('statswriter');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 30, emptyRate: 0, duplicateRate: 0 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());

  test('rows the application changed after they were read (a vector of its own, a new text) are neither written nor counted', async () => {
    const ctx = await openSchemaContext(db.knex, portableConfig(db));
    await prepareTermStats(db.knex, ctx.target, ctx.dialect, STATS);
    const rows: Array<{ id: string; document: string }> = await db
      .knex('memories')
      .select('id', 'document')
      .orderBy('id');
    const embedder = new LocalSparseEmbedder({ threads: 0 });
    const items = rows.map((r) => {
      const v = embedder.embed(r.document, 'document');
      return {
        id: String(r.id),
        hash: createHash('md5').update(r.document).digest('hex'),
        value: toPortableJson(v),
        indices: v.indices,
        v,
      };
    });
    // After the batch was read and embedded, the application writes a vector to one row and a text to another.
    await db.knex('memories').where({ id: items[0].id }).update({ sparse_embedding: '[[7,1]]' });
    await db.knex('memories').where({ id: items[1].id }).update({ document: 'a new text' });

    const written = await writeBatchCounted(db.knex, ctx.target, STATS, items, 'CAST(? AS SIGNED)');
    expect(written).toBe(items.length - 2);

    const expected = new Map<number, number>([[DOCUMENT_COUNT_KEY, items.length - 2]]);
    for (const w of items.slice(2)) for (const i of w.indices) expected.set(i, (expected.get(i) ?? 0) + 1);
    const stats: Array<{ term: string | number; df: string | number }> = await db.knex(STATS).select('term', 'df');
    expect(new Map(stats.map((s) => [Number(s.term), Number(s.df)]))).toEqual(expected);
    const first = await db.knex('memories').where({ id: items[0].id }).first();
    expect(storedJson(first.sparse_embedding)).toBe('[[7,1]]');
  });
});
