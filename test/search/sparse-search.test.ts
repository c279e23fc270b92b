import { runSeeder } from '../../src/backfill';
import { parseServerVersion } from '../../src/db/server-info';
import type { SparseTarget } from '../../src/dialect/dialect';
import { OceanBaseDialect } from '../../src/dialect/oceanbase';
import { SeekdbDialect } from '../../src/dialect/seekdb';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { SparseVectorError } from '../../src/errors';
import { readIdf, termStatsTable } from '../../src/stats/term-stats';
import { sparseSearch } from '../../src/search/sparse-search';
import { createSparseVector, toOceanBaseLiteral } from '../../src/sparse/sparse-vector';
import type { Logger } from '../../src/util/logger';
import { portableConfig, upgrade } from '../support/backfill';
import { sparseVector } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/**
 * Native search statements, as sparseSearch sends them to OceanBase >= 4.5.0 and seekdb: the query vector
 * is bound as the sparse text literal, scores come from negative_inner_product, and `ORDER BY score
 * APPROXIMATE LIMIT k` is the form that uses the sparse vector index (LIMIT at most 16,384).
 */
describe.each([
  ['OceanBase 4.5.0', new OceanBaseDialect(parseServerVersion('5.7.25-OceanBase_CE-v4.5.0.0'))],
  ['seekdb 1.4.0', new SeekdbDialect(parseServerVersion('5.7.25-OceanBase seekdb-v1.4.0.0'))],
])('native search SQL on %s', (_label, dialect) => {
  const memories: SparseTarget = {
    table: 'memories',
    idColumn: 'id',
    textColumn: 'document',
    sparseColumn: 'sparse_embedding',
    sparseIndex: 'sparse_embedding_idx',
  };
  const query = createSparseVector([
    [499_999, 2],
    [7, 0.1],
    [3, 1.25],
  ]);

  test('exact SQL text and bindings for a given vector', () => {
    const s = dialect.searchSql(memories, query, 10);
    expect(s.sql).toBe(
      'SELECT m.`id` AS `id`, m.`document` AS `text`, negative_inner_product(m.`sparse_embedding`, ?) AS `score` ' +
        'FROM `memories` AS m WHERE m.`sparse_embedding` IS NOT NULL ORDER BY `score` APPROXIMATE LIMIT 10',
    );
    // Keys ascending, float32 weights in their shortest form, bound (never inlined).
    expect(s.bindings).toEqual(['{3:1.25,7:0.1,499999:2}']);
    expect(s.sql).not.toContain('{');
  });

  test('configured names (OCEANBASE_COLLECTION, OCEANBASE_TEXT_FIELD, id) and extra columns are quoted', () => {
    const notes: SparseTarget = {
      table: 'notes',
      idColumn: 'note_id',
      textColumn: 'content',
      sparseColumn: 'sparse_embedding',
      sparseIndex: 'sparse_embedding_idx',
    };
    const s = dialect.searchSql(notes, createSparseVector([[1, 1]]), 3, ['user_id']);
    expect(s.sql).toBe(
      'SELECT m.`note_id` AS `id`, m.`content` AS `text`, m.`user_id`, negative_inner_product(m.`sparse_embedding`, ?) AS `score` ' +
        'FROM `notes` AS m WHERE m.`sparse_embedding` IS NOT NULL ORDER BY `score` APPROXIMATE LIMIT 3',
    );
    expect(s.bindings).toEqual(['{1:1}']);
  });

  test('the query the local embedder makes is bound as its literal', async () => {
    const v = await new LocalSparseEmbedder().embedQuery('porcelain teapot');
    const s = dialect.searchSql(memories, v, 5);
    expect(v.indices.length).toBe(2);
    expect(s.bindings).toEqual([`{${v.indices[0]}:1,${v.indices[1]}:1}`]);
  });

  test('score: negative inner product back to a similarity (larger is better)', () => {
    const s = dialect.searchSql(memories, query, 1);
    expect(s.similarity('-2.5')).toBe(2.5);
    expect(s.similarity(-0.125)).toBe(0.125);
  });

  test('LIMIT must lie in 1..16384', () => {
    expect(dialect.searchSql(memories, query, 1).sql).toMatch(/ APPROXIMATE LIMIT 1$/);
    expect(dialect.searchSql(memories, query, 16_384).sql).toMatch(/ APPROXIMATE LIMIT 16384$/);
    for (const k of [0, -1, 16_385, 2.5, Number.NaN]) {
      let error: unknown;
      try {
        dialect.searchSql(memories, query, k);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SparseVectorError);
      expect((error as SparseVectorError).code).toBe('CONFIG_INVALID');
      expect((error as SparseVectorError).message).toContain('use a whole number from 1 to 16384');
    }
  });
});

function capture(): Logger & { debugLines: string[] } {
  const debugLines: string[] = [];
  return { debugLines, info() {}, warn() {}, debug: (m) => void debugLines.push(m) };
}

const TEAPOT_ID = '1900000000000000001';
const NULL_TEAPOT_ID = '1900000000000000002';

describe('sparseSearch on a real server (portable mode: exact inner product in SQL)', () => {
  let db: TestDatabase;
  const embedder = new LocalSparseEmbedder();
  beforeAll(async () => {
    db = await createTestDatabase('search');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 200 });
    await db.knex('memories').insert([
      {
        id: TEAPOT_ID,
        document: 'Grandma Rosalind keeps her porcelain teapot collection in the attic of the lighthouse',
      },
      { id: NULL_TEAPOT_ID, document: 'porcelain teapot porcelain teapot porcelain teapot' },
    ]);
    await upgrade(db);
    await runSeeder({ config: portableConfig(db), embedder, delaySeconds: 0, progress: 'none' });
    // A row that was not migrated: it must not take part, however well it would match.
    await db.knex('memories').where({ id: NULL_TEAPOT_ID }).update({ sparse_embedding: null });
    await createMemoriesTable(db.knex, 'plain');
  });
  afterAll(async () => db.drop());

  test('the memory that matches the query comes first; rows without an embedding do not take part', async () => {
    const logger = capture();
    const query = 'porcelain teapot in the lighthouse attic, and green tea';
    const hits = await sparseSearch({ config: portableConfig(db), embedder, query, limit: 5, logger });
    expect(hits[0].id).toBe(TEAPOT_ID);
    expect(hits[0].text).toBe('Grandma Rosalind keeps her porcelain teapot collection in the attic of the lighthouse');
    expect(hits.map((h) => h.id)).not.toContain(NULL_TEAPOT_ID);
    expect(hits[0].score).toBeGreaterThan(hits[1].score);
    expect(logger.debugLines[0]).toBe(
      `Executing sparse vector search query with sparse_vector: ${toOceanBaseLiteral(await embedder.embedQuery(query))}`,
    );
    expect(logger.debugLines).toContain('_sparse_search results, len : 5');
  });

  test('ranking and scores equal the inner products computed from the stored vectors', async () => {
    const query = 'allergic to peanuts, green tea in the morning';
    const hits = await sparseSearch({ config: portableConfig(db), embedder, query, limit: 20 });
    // The query as search sends it: its weights times the IDF of the term statistics the backfill recorded.
    const embedded = await embedder.embedQuery(query);
    const idfs = (await readIdf(db.knex, termStatsTable('memories'), embedded.indices))!;
    const qw = new Map(Array.from(embedded.indices, (i, k) => [i, embedded.values[k] * idfs[k]] as [number, number]));
    // The driver may hand the JSON column over parsed or as text.
    const rows: Array<{ id: string; sparse_embedding: string | Array<[number, number]> | null }> = await db
      .knex('memories')
      .select('id', 'sparse_embedding');
    const expected = rows
      .filter((r) => r.sparse_embedding !== null)
      .map((r) => {
        let score = 0;
        let overlap = false;
        const stored =
          typeof r.sparse_embedding === 'string'
            ? (JSON.parse(r.sparse_embedding) as Array<[number, number]>)
            : r.sparse_embedding!;
        for (const [i, v] of stored) {
          if (qw.has(i)) {
            score += v * qw.get(i)!;
            overlap = true;
          }
        }
        return { id: String(r.id), score, overlap };
      })
      .filter((r) => r.overlap)
      .sort(
        (a, b) =>
          Number(b.score.toPrecision(9)) - Number(a.score.toPrecision(9)) || (BigInt(a.id) < BigInt(b.id) ? -1 : 1),
      )
      .slice(0, 20);
    expect(hits).toHaveLength(20);
    expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
    hits.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i].score, 6));
  });

  test('ids above 2^53 come back exactly, as strings; k larger than the matches returns only matching rows', async () => {
    const hits = await sparseSearch({ config: portableConfig(db), embedder, query: 'Rosalind', limit: 16_384 });
    expect(hits).toEqual([
      {
        id: TEAPOT_ID,
        text: expect.stringContaining('Rosalind'),
        score: expect.any(Number),
        similarity: expect.any(Number),
      },
    ]);
  });

  test('an application knex instance is used and left open', async () => {
    const hits = await sparseSearch({ config: portableConfig(db), knex: db.knex, embedder, query: 'cello', limit: 3 });
    expect(hits.length).toBe(3);
    expect(hits.every((h) => /cello/i.test(h.text))).toBe(true);
    await expect(db.knex.raw('SELECT 1')).resolves.toBeDefined();
  });

  test('a table without the column: SCHEMA_NOT_UPGRADED with the command to run; a missing table: TABLE_MISSING', async () => {
    await expect(
      sparseSearch({ config: portableConfig(db, { table: 'plain' }), embedder, query: 'tea' }),
    ).rejects.toMatchObject({
      code: 'SCHEMA_NOT_UPGRADED',
      hint: expect.stringContaining('npx sparse-vector run upgrade-sparse-vector'),
    });
    await expect(
      sparseSearch({ config: portableConfig(db, { table: 'nope' }), embedder, query: 'tea' }),
    ).rejects.toMatchObject({ code: 'TABLE_MISSING' });
  });

  test('a query without any weighted term (empty, stop words only) finds nothing', async () => {
    const logger = capture();
    expect(await sparseSearch({ config: portableConfig(db), embedder, query: '  ', logger })).toEqual([]);
    expect(logger.debugLines).toEqual([
      'Executing sparse vector search query with sparse_vector: {}',
      '_sparse_search results, len : 0',
    ]);
  });

  test('limit outside 1..16384 is rejected before the query runs', async () => {
    await expect(sparseSearch({ config: portableConfig(db), embedder, query: 'tea', limit: 0 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(
      sparseSearch({ config: portableConfig(db), embedder, query: 'tea', limit: 16_385 }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  describe('npx sparse-vector search', () => {
    const cli = (args: string[], extra: Record<string, string> = {}) =>
      sparseVector(args, db.env({ SPARSE_VECTOR_STORAGE: 'json', ...extra }), 60_000);

    test("prints the top-k with scores; LOG_LEVEL=debug shows powermem's DEBUG lines", async () => {
      const r = await cli(['search', 'porcelain', 'teapot', '--limit', '3'], { LOG_LEVEL: 'debug' });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^DEBUG: Executing sparse vector search query with sparse_vector: \{\d+:1,\d+:1\}$/m);
      expect(r.stdout).toContain('DEBUG: _sparse_search results, len : 1\n');
      expect(r.stdout).toMatch(
        /✓ Search returned 1 results\n {2}1\. \[score \d+\.\d{4} \| similarity 0\.\d{4}\] id 1900000000000000001: Grandma Rosalind keeps/,
      );
      const quiet = await cli(['search', 'porcelain', 'teapot']);
      expect(quiet.stdout).not.toContain('DEBUG');
    });

    test('--json prints the hits only (a boolean flag does not swallow the query)', async () => {
      const r = await cli(['search', '--json', 'cello', '--limit', '2']);
      expect(r.code).toBe(0);
      const hits = JSON.parse(r.stdout);
      expect(hits).toHaveLength(2);
      expect(hits[0]).toEqual({
        id: expect.stringMatching(/^\d{19}$/),
        text: expect.stringMatching(/cello/),
        score: expect.any(Number),
        similarity: expect.any(Number),
      });
    });

    test.each([
      [['search', 'tea', '--limit', '0'], 'Error [USAGE]: --limit "0" is not a whole number from 1 to 16384.'],
      [['search', 'tea', '--limit', 'lots'], 'Error [USAGE]: --limit "lots" is not a whole number from 1 to 16384.'],
      [['search'], 'Error [SCRIPT_PARAMETER]: search needs a query.'],
      [
        ['search', 'tea', '--top', '3'],
        'Error [SCRIPT_PARAMETER]: Unknown option --top. Accepted: --limit, --json, --user-id, --agent-id, --run-id.',
      ],
    ])('%j -> exit 2', async (args, message) => {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    });

    test('on a table that is not upgraded: exit 1 and what to run', async () => {
      const r = await cli(['search', 'tea'], { OCEANBASE_COLLECTION: 'plain' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("Error [SCHEMA_NOT_UPGRADED]: Table 'plain' has no sparse_embedding column");
    });
  });
});
