import { runBackfill } from '../../src/backfill';
import { PortableJsonDialect } from '../../src/dialect/portable-json';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { sparseSearch } from '../../src/search/sparse-search';
import { DOCUMENT_COUNT_KEY, termStatsTable } from '../../src/stats/term-stats';
import { onFailpoint } from '../../src/util/failpoint';
import { formatVerifyReport, verifySparseVector } from '../../src/verify/verify';
import { portableConfig, upgrade } from '../support/backfill';
import { startAt, umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const STATS = termStatsTable('memories');

/** Document frequencies and N as the statistics table holds them. */
async function recorded(db: TestDatabase): Promise<{ n: number; df: Record<string, number> }> {
  const rows: Array<{ term: string | number; df: string | number }> = await db
    .knex(STATS)
    .select('term', 'df')
    .orderBy('term');
  const df: Record<string, number> = {};
  let n = 0;
  for (const r of rows) {
    if (Number(r.term) === DOCUMENT_COUNT_KEY) n = Number(r.df);
    else if (Number(r.df) !== 0) df[String(r.term)] = Number(r.df);
  }
  return { n, df };
}

/** The same, counted from the vectors the table stores now. */
async function fromStoredVectors(db: TestDatabase): Promise<{ n: number; df: Record<string, number> }> {
  const dialect = new PortableJsonDialect({} as never);
  const rows: Array<{ v: unknown }> = await db
    .knex('memories')
    .select({ v: 'sparse_embedding' })
    .whereNotNull('sparse_embedding');
  const df: Record<string, number> = {};
  for (const r of rows) for (const i of dialect.decode(r.v).indices) df[String(i)] = (df[String(i)] ?? 0) + 1;
  return { n: rows.length, df };
}

async function verifyLines(db: TestDatabase): Promise<string> {
  return formatVerifyReport(await verifySparseVector({ config: portableConfig(db), knex: db.knex })).join('\n');
}

describe('term statistics for query-side IDF', () => {
  let db: TestDatabase;
  // A fresh table for each test: they run in any order.
  beforeEach(async () => {
    db = await createTestDatabase('termstats');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 400 });
    await upgrade(db);
  });
  afterEach(async () => db.drop());

  test('a backfill records the document frequencies of exactly the vectors it stored', async () => {
    const s = await runBackfill({
      config: portableConfig(db),
      knex: db.knex,
      delaySeconds: 0,
      progress: 'none',
      batchSize: 50,
      workers: 3,
    });
    expect(s.ok).toBe(true);
    const stored = await fromStoredVectors(db);
    expect(stored.n).toBeGreaterThan(300);
    expect(await recorded(db)).toEqual(stored);
    expect(await verifyLines(db)).toContain(`IDF stats:   ✓ ${STATS}: ${stored.n} vectors counted`);
  });

  test("a first run reads the table once before its first batch: the start count and the statistics' check share one scan, and with no vector stored nothing is rescanned", async () => {
    const statements: string[] = [];
    const log = (q: { sql: string }) => statements.push(q.sql);
    db.knex.on('query', log);
    let s;
    try {
      s = await runBackfill({ config: portableConfig(db), knex: db.knex, delaySeconds: 0, progress: 'none' });
    } finally {
      db.knex.off('query', log);
    }
    expect(s.ok).toBe(true);
    const firstBatch = statements.findIndex((sql) => sql.includes('AS hash FROM `memories`'));
    const tableReads = statements.slice(0, firstBatch).filter((sql) => /FROM `memories`/.test(sql));
    expect(tableReads).toHaveLength(1);
    expect(await recorded(db)).toEqual(await fromStoredVectors(db));
  });

  test('stale statistics (N says 5, no vector stored) are reset without a scan; a counted write that commits between the start check and the reset is not lost', async () => {
    await runBackfill({ config: portableConfig(db), knex: db.knex, delaySeconds: 0, progress: 'none', limit: 5 });
    await db.knex('memories').update({ sparse_embedding: null }); // N still says 5
    // The moment between the check (no vector stored) and the reset: another run writes and counts 30 rows.
    const off = onFailpoint('stats:before-rebuild', async () => {
      off();
      const other = await runBackfill({ config: portableConfig(db), delaySeconds: 0, progress: 'none', limit: 30 });
      expect(other.migrated).toBe(30);
    });
    try {
      const s = await runBackfill({ config: portableConfig(db), knex: db.knex, delaySeconds: 0, progress: 'none' });
      expect(s.ok).toBe(true);
    } finally {
      off();
    }
    const stored = await fromStoredVectors(db);
    expect(stored.n).toBeGreaterThan(300);
    expect(await recorded(db)).toEqual(stored);
  });

  test('SIGKILL inside a write (rows updated, statistics not yet): nothing of it stays; the re-run makes them exact', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    await runBackfill({ config: portableConfig(db), knex: db.knex, delaySeconds: 0, progress: 'none', limit: 100 });
    const env = db.env({ SPARSE_VECTOR_STORAGE: 'json' });
    const { child, done, reached } = startAt(
      'backfill:before-stats',
      ['seed', '--workers', '1', '--batch-size', '20', '--delay', '0', '--rerun', '--progress', 'none'],
      env,
    );
    await reached;
    child.kill('SIGKILL');
    const killed = await done;
    expect({ signal: killed.signal, out: killed.stdout + killed.stderr }).toMatchObject({ signal: 'SIGKILL' });
    expect(await recorded(db)).toEqual(await fromStoredVectors(db)); // the killed transaction rolled back both
    const again = await umzug(
      ['seed', '--workers', '3', '--delay', '0', '--rerun', '--progress', 'none'],
      env,
      120_000,
    );
    expect(again.code).toBe(0);
    const stored = await fromStoredVectors(db);
    expect(stored.n).toBeGreaterThan(300);
    expect(await recorded(db)).toEqual(stored);
  });

  test('3 shards in parallel: each vector counted once', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const config = portableConfig(db);
    const runs = [0, 1, 2].map((index) =>
      runBackfill({ config, delaySeconds: 0, progress: 'none', batchSize: 25, workers: 2, shard: { index, count: 3 } }),
    );
    for (const s of await Promise.all(runs)) expect(s.ok).toBe(true);
    const stored = await fromStoredVectors(db);
    expect(await recorded(db)).toEqual(stored);
  });

  test('rows deleted, texts changed (vector cleared, or left stale) and an application-written vector: verify says the statistics are stale; the next run rebuilds them exactly', async () => {
    await runBackfill({ config: portableConfig(db), knex: db.knex, delaySeconds: 0, progress: 'none' });
    const ids: string[] = (
      await db.knex('memories').whereNotNull('sparse_embedding').orderBy('id').limit(40).pluck('id')
    ).map(String);
    await db.knex('memories').whereIn('id', ids.slice(0, 10)).delete();
    await db
      .knex('memories')
      .whereIn('id', ids.slice(10, 20))
      .update({ document: 'The user now prefers rooibos tea', sparse_embedding: null });
    await db
      .knex('memories')
      .whereIn('id', ids.slice(20, 30))
      .update({ document: 'A text changed without clearing its vector' });
    await db.knex('memories').whereIn('id', ids.slice(30, 31)).update({ sparse_embedding: '[[7,1]]' });
    expect(await recorded(db)).not.toEqual(await fromStoredVectors(db));
    expect(await verifyLines(db)).toMatch(
      /IDF stats: {3}✗ .* counts \d+ vectors, the table stores \d+: IDF is approximate until the next backfill run rebuilds them/,
    );
    const s = await runBackfill({ config: portableConfig(db), knex: db.knex, delaySeconds: 0, progress: 'none' });
    expect(s.migrated).toBe(10); // the cleared rows, embedded again
    expect(await recorded(db)).toEqual(await fromStoredVectors(db));
  });

  test('search weighs the query by IDF: a rare term outweighs a common one; without statistics it works as before and verify says so', async () => {
    const config = portableConfig(db);
    await db.knex('memories').delete();
    const common = Array.from({ length: 20 }, (_, i) => ({
      id: 100 + i,
      document: `banana smoothie recipe number ${i}`,
    }));
    await db
      .knex('memories')
      .insert([{ id: 1, document: 'banana bread' }, { id: 2, document: 'cherry bread' }, ...common]);
    await runBackfill({ config, knex: db.knex, delaySeconds: 0, progress: 'none' });
    const embedder = new LocalSparseEmbedder({ threads: 0 });
    const withIdf = await sparseSearch({ config, query: 'banana cherry bread', knex: db.knex, embedder, limit: 3 });
    expect(withIdf[0].id).toBe('2'); // cherry is rare, banana common
    await db.knex.schema.dropTable(STATS);
    const without = await sparseSearch({ config, query: 'banana cherry bread', knex: db.knex, embedder, limit: 3 });
    expect(without.slice(0, 2).map((h) => h.id)).toEqual(['1', '2']); // same score (BM25 without IDF), ties by id
    expect(without[0].score).toBe(without[1].score);
    expect(await verifyLines(db)).toContain(
      `IDF stats:   - none (${STATS} missing): search works, without IDF; the next backfill run builds them`,
    );
  });
});
