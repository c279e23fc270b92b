import { runSeeder } from '../../src/backfill';
import { parseServerVersion } from '../../src/db/server-info';
import type { SparseTarget } from '../../src/dialect/dialect';
import { OceanBaseDialect } from '../../src/dialect/oceanbase';
import { PortableJsonDialect } from '../../src/dialect/portable-json';
import { SeekdbDialect } from '../../src/dialect/seekdb';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { SparseVectorError } from '../../src/errors';
import { powermemSimilarity, toColumnFilters } from '../../src/search/filters';
import { sparseSearch } from '../../src/search/sparse-search';
import { createSparseVector } from '../../src/sparse/sparse-vector';
import { portableConfig, upgrade } from '../support/backfill';
import { sparseVector } from '../support/cli';
import { createMemoriesTable, createTestDatabase, type TestDatabase } from '../support/db';

const memories: SparseTarget = {
  table: 'memories',
  idColumn: 'id',
  textColumn: 'document',
  sparseColumn: 'sparse_embedding',
  sparseIndex: 'sparse_embedding_idx',
};

describe.each([
  ['OceanBase 4.5.0', new OceanBaseDialect(parseServerVersion('5.7.25-OceanBase_CE-v4.5.0.0'))],
  ['seekdb 1.4.0', new SeekdbDialect(parseServerVersion('5.7.25-OceanBase seekdb-v1.4.0.0'))],
])('native filtered search SQL on %s', (_label, dialect) => {
  test('filters are bound WHERE conditions beside IS NOT NULL; APPROXIMATE (the index) is kept', () => {
    const s = dialect.searchSql(
      memories,
      createSparseVector([[3, 1.25]]),
      10,
      [],
      toColumnFilters({ run_id: 'r1', user_id: 'u1', agent_id: 'a1' }),
    );
    expect(s.sql).toBe(
      'SELECT m.`id` AS `id`, m.`document` AS `text`, negative_inner_product(m.`sparse_embedding`, ?) AS `score` ' +
        'FROM `memories` AS m WHERE m.`sparse_embedding` IS NOT NULL AND m.`user_id` = ? AND m.`agent_id` = ? AND m.`run_id` = ? ' +
        'ORDER BY `score` APPROXIMATE LIMIT 10',
    );
    expect(s.bindings).toEqual(['{3:1.25}', 'u1', 'a1', 'r1']);
  });

  test('without filters: rows with a NULL vector are still excluded, APPROXIMATE kept', () => {
    const s = dialect.searchSql(memories, createSparseVector([[3, 1]]), 5);
    expect(s.sql).toContain('WHERE m.`sparse_embedding` IS NOT NULL ORDER BY `score` APPROXIMATE LIMIT 5');
  });
});

test('portable search SQL: filters inside the scoring subquery, values bound after the query vector', () => {
  const s = new PortableJsonDialect(parseServerVersion('10.11.19-MariaDB')).searchSql(
    memories,
    createSparseVector([[3, 1]]),
    5,
    [],
    toColumnFilters({ user_id: 'u1' }),
  );
  expect(s.sql).toContain('WHERE d.`sparse_embedding` IS NOT NULL AND e.i = qv.i AND d.`user_id` = ? GROUP BY');
  expect(s.bindings).toEqual(['[[3,1]]', 'u1']);
});

test('similarity as powermem reports it: ip/(1+ip) for ip >= 0, max(0, 1/(1-ip)) below', () => {
  expect(powermemSimilarity(0)).toBe(0);
  expect(powermemSimilarity(1)).toBe(0.5);
  expect(powermemSimilarity(3)).toBe(0.75);
  expect(powermemSimilarity(-1)).toBe(0.5);
});

test('bad filters are refused before the database is touched, naming the accepted ones', () => {
  const err = (f: unknown) => {
    try {
      toColumnFilters(f as never);
    } catch (e) {
      return e as SparseVectorError;
    }
    throw new Error('no error');
  };
  expect(err({ user: 'u1' }).message).toBe("Unknown search filter 'user'. Accepted: user_id, agent_id, run_id.");
  expect(err({ user_id: '' }).message).toBe('Search filter user_id must be a non-empty text, got "".');
});

describe('filtered search on MariaDB (portable mode)', () => {
  let db: TestDatabase;
  const embedder = new LocalSparseEmbedder();
  const rows = [
    { id: '101', document: 'porcelain teapot collection in the attic', user_id: 'u1', agent_id: 'a1', run_id: 'r1' },
    { id: '102', document: 'porcelain teapot repair shop downtown', user_id: 'u1', agent_id: 'a2', run_id: 'r2' },
    { id: '103', document: 'porcelain teapot bought at the market', user_id: 'u2', agent_id: 'a1', run_id: 'r1' },
    {
      id: '104',
      document: 'porcelain teapot porcelain teapot porcelain teapot',
      user_id: 'u1',
      agent_id: 'a1',
      run_id: 'r1',
    },
    { id: '105', document: 'garden tomatoes need water', user_id: 'u1', agent_id: 'a1', run_id: 'r1' },
  ];
  beforeAll(async () => {
    db = await createTestDatabase('filters');
    await createMemoriesTable(db.knex);
    await db.knex('memories').insert(rows);
    await upgrade(db);
    await runSeeder({ config: portableConfig(db), embedder, delaySeconds: 0, progress: 'none' });
    // Not migrated: never returned, whatever the filters.
    await db.knex('memories').where({ id: '104' }).update({ sparse_embedding: null });
  });
  afterAll(async () => db.drop());

  const search = (filters?: Record<string, string>) =>
    sparseSearch({ config: portableConfig(db), embedder, query: 'porcelain teapot', limit: 10, filters }).then((h) =>
      h.map((x) => x.id).sort(),
    );

  test('user_id, agent_id, run_id and their combinations select only matching memories; NULL vectors never', async () => {
    expect(await search()).toEqual(['101', '102', '103']);
    expect(await search({ user_id: 'u1' })).toEqual(['101', '102']);
    expect(await search({ agent_id: 'a1' })).toEqual(['101', '103']);
    expect(await search({ run_id: 'r2' })).toEqual(['102']);
    expect(await search({ user_id: 'u1', agent_id: 'a1', run_id: 'r1' })).toEqual(['101']);
    expect(await search({ user_id: 'nobody' })).toEqual([]);
  });

  test("every hit carries the raw score and powermem's similarity of it", async () => {
    const hits = await sparseSearch({ config: portableConfig(db), embedder, query: 'porcelain teapot', limit: 10 });
    for (const h of hits) {
      expect(h.score).toBeGreaterThan(0);
      expect(h.similarity).toBeCloseTo(h.score / (1 + h.score), 12);
    }
  });

  test('a filter on a column the table lacks: clear error', async () => {
    await db.knex.raw('CREATE TABLE bare (id BIGINT PRIMARY KEY, document TEXT, sparse_embedding JSON NULL)');
    const err = await sparseSearch({
      config: portableConfig(db, { table: 'bare' }),
      embedder,
      query: 'x',
      filters: { agent_id: 'a1' },
    }).catch((e: unknown) => e as SparseVectorError);
    expect((err as SparseVectorError).message).toBe("Table 'bare' has no column 'agent_id' to filter on.");
  });

  test('CLI: --user-id/--agent-id/--run-id filter; the text output shows score and similarity', async () => {
    const env = db.env({ SPARSE_VECTOR_STORAGE: 'json', OCEANBASE_COLLECTION: 'memories' });
    const r = await sparseVector(['search', 'porcelain teapot', '--user-id', 'u1', '--agent-id', 'a1', '--json'], env);
    expect(r.code).toBe(0);
    const hits = JSON.parse(r.stdout) as Array<{ id: string; score: number; similarity: number }>;
    expect(hits.map((h) => h.id)).toEqual(['101']);
    expect(hits[0].similarity).toBeCloseTo(hits[0].score / (1 + hits[0].score), 12);
    const text = await sparseVector(['search', 'porcelain teapot', '--run-id', 'r2'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /1\. \[score \d+\.\d{4} \| similarity 0\.\d{4}\] id 102: porcelain teapot repair shop downtown/,
    );
    const bad = await sparseVector(['search', 'porcelain teapot', '--user-id'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--user-id needs a value.');
  });
});
