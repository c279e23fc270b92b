import { runBackfill } from '../../src/backfill';
import { sparseSearch } from '../../src/search/sparse-search';
import { memories, queries } from '../fixtures/retrieval-set';
import { portableConfig, upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, type TestDatabase } from '../support/db';

describe('retrieval set through sparse search on the real server (local provider, portable mode)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('retrieval');
    await createMemoriesTable(db.knex);
    await db.knex('memories').insert(memories.map((m) => ({ id: m.id, document: m.text })));
    await upgrade(db);
    await runBackfill({ config: portableConfig(db), delaySeconds: 0, progress: 'none' });
  });
  afterAll(async () => db.drop());

  test('the relevant memory ranks first for most queries', async () => {
    const config = portableConfig(db);
    let hits = 0;
    const misses: string[] = [];
    for (const q of queries) {
      const [top] = await sparseSearch({ config, query: q.query, limit: 3, knex: db.knex });
      if (top && Number(top.id) === q.relevantId) hits++;
      else misses.push(`${q.query} -> ${top?.id}`);
    }
    console.log(`sparse search top-1 hit rate: ${hits}/${queries.length}; misses: ${misses.join(' | ')}`);
    // Same vectors as the in-memory test in local.test.ts (measured 23/26 there).
    expect(hits / queries.length).toBeGreaterThanOrEqual(0.84);
  });
});
