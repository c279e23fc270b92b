import type { Knex } from 'knex';
import { writeBatchCounted } from '../../src/backfill/stats-writer';
import {
  batchUpdate,
  chooseBatchShape,
  compareIds,
  fallbackShape,
  type BatchShape,
} from '../../src/backfill/write-shape';
import { executePrepared, lookupSize, lookupUpdate } from '../../src/backfill/lookup-write';
import { writeBatch, WritePlan, type PendingWrite } from '../../src/backfill/writer';
import type { SparseDialect, SparseTarget } from '../../src/dialect/dialect';
import { selectDialect } from '../../src/dialect/select-dialect';
import { detectServer } from '../../src/db/server-info';
import { createKnex } from '../../src/db/knex';
import { onFailpoint } from '../../src/util/failpoint';
import { createTestDatabase, type TestDatabase } from '../support/db';

/*
 * The batched write's shapes (src/backfill/write-shape.ts) on the real server: each keeps the write guard,
 * the range shape writes only the batch's rows of its id range, the writer walks down the shapes when the
 * server rejects one, and the range shape's transaction (READ COMMITTED) locks no gap and no row it skips.
 */

let db: TestDatabase;
const t: SparseTarget = { table: 'm', idColumn: 'id', textColumn: 'doc', sparseColumn: 'sv', sparseIndex: 'idx_sv' };
const ID = 'CAST(? AS SIGNED)';
const SHAPES: BatchShape[] = [
  { rows: 'union', range: false },
  { rows: 'values', range: false },
  { rows: 'union', range: true },
  { rows: 'values', range: true },
  { rows: 'lookup', range: true },
];
/** Snowflake-like ids above 2^53, so that the range's bounds must be exact. */
const BASE = 1800000000000000000n;
const idOf = (i: number) => String(BASE + BigInt(i));

beforeAll(async () => {
  db = await createTestDatabase('writeshape');
  await db.knex.raw('CREATE TABLE m (id BIGINT PRIMARY KEY, doc LONGTEXT NULL, sv LONGTEXT NULL)');
});
afterAll(async () => db.drop());
afterEach(() => {
  delete process.env.SPARSE_FAILPOINT;
});

/** Rows idOf(1..n) with texts 'text <i>'; `done` rows already have a vector. */
async function rows(n: number, done: number[] = []): Promise<void> {
  await db.knex('m').del();
  const all = Array.from({ length: n }, (_, k) => k + 1);
  await db.knex('m').insert(all.map((i) => ({ id: idOf(i), doc: `text ${i}`, sv: done.includes(i) ? 'done' : null })));
}

/** Pending writes for rows idOf(i) (value 'v<i>'), with the hashes the server computes. */
async function writesFor(ids: number[]): Promise<PendingWrite[]> {
  const [r] = await db.knex.raw('SELECT CAST(id AS CHAR) AS id, MD5(doc) AS h FROM m');
  const h = new Map<string, string>(r.map((x: { id: string; h: string }) => [x.id, x.h]));
  return ids.map((i) => ({ id: idOf(i), hash: h.get(idOf(i))!, value: `v${i}`, indices: [i] }));
}

async function vectors(): Promise<Record<number, string | null>> {
  const r: Array<{ id: string; sv: string | null }> = await db
    .knex('m')
    .select(db.knex.raw('CAST(id AS CHAR) AS id'), 'sv');
  return Object.fromEntries(r.map((x) => [Number(BigInt(x.id) - BASE), x.sv]));
}

describe.each(SHAPES)('the write guard in the shape %o', (shape) => {
  test('rows still NULL with the same text are written; the others, and rows of the range not in the batch, are not', async () => {
    await rows(8, [5]);
    // Out of id order, and with rows 3 (NULL) and 5 (done) inside the batch's range but not in the batch.
    const items = await writesFor([7, 2, 6, 1, 4]);
    // Between the read and the write: the application writes row 4's vector and changes row 6's text.
    await db
      .knex('m')
      .where({ id: idOf(4) })
      .update({ sv: 'app' });
    await db
      .knex('m')
      .where({ id: idOf(6) })
      .update({ doc: 'text 6, edited' });
    const plan = new WritePlan(shape);
    expect(await writeBatch(db.knex, t, items, ID, undefined, plan)).toBe(3);
    expect(plan).toMatchObject({ form: 'batched', shape });
    expect(await vectors()).toEqual({ 1: 'v1', 2: 'v2', 3: null, 4: 'app', 5: 'done', 6: null, 7: 'v7', 8: null });
  });
});

describe('the statement of each shape', () => {
  const items: PendingWrite[] = [
    { id: idOf(9), hash: 'h9', value: 'v9' },
    { id: idOf(3), hash: 'h3', value: 'v3' },
    { id: idOf(1000), hash: 'h1000', value: 'v1000' },
  ];

  test('union: one SELECT per row, the batch first', () => {
    const { sql, bindings } = batchUpdate(t, items, ID, { rows: 'union', range: false });
    expect(sql).toBe(
      'UPDATE `m` AS m JOIN (SELECT CAST(? AS SIGNED) AS id, ? AS h, ? AS v UNION ALL SELECT CAST(? AS SIGNED), ?, ? ' +
        'UNION ALL SELECT CAST(? AS SIGNED), ?, ?) AS x ON m.`id` = x.id SET m.`sv` = x.v ' +
        'WHERE m.`sv` IS NULL AND MD5(m.`doc`) = x.h',
    );
    expect(bindings).toEqual([idOf(9), 'h9', 'v9', idOf(3), 'h3', 'v3', idOf(1000), 'h1000', 'v1000']);
  });

  test('values and range: a VALUES list after the first row, the table first over [min id, second largest id] and the largest id (exact above 2^53)', () => {
    const { sql, bindings } = batchUpdate(t, items, ID, { rows: 'values', range: true });
    expect(sql).toBe(
      'UPDATE `m` AS m STRAIGHT_JOIN (SELECT CAST(? AS SIGNED) AS id, ? AS h, ? AS v UNION ALL VALUES ' +
        '(CAST(? AS SIGNED), ?, ?), (CAST(? AS SIGNED), ?, ?)) AS x ON m.`id` = x.id SET m.`sv` = x.v ' +
        'WHERE m.`sv` IS NULL AND MD5(m.`doc`) = x.h ' +
        'AND (m.`id` BETWEEN CAST(? AS SIGNED) AND CAST(? AS SIGNED) OR m.`id` = CAST(? AS SIGNED))',
    );
    expect(bindings.slice(-3)).toEqual(['1800000000000000003', '1800000000000000009', '1800000000000001000']);
    const one = batchUpdate(t, items.slice(2), ID, { rows: 'values', range: true });
    expect(one.sql).toMatch(/ AND m\.`id` = CAST\(\? AS SIGNED\)$/);
    expect(one.bindings.slice(-1)).toEqual(['1800000000000001000']);
  });

  test('one row: no VALUES list', () => {
    const { sql } = batchUpdate(t, items.slice(0, 1), ID, { rows: 'values', range: false });
    expect(sql).toContain('JOIN (SELECT CAST(? AS SIGNED) AS id, ? AS h, ? AS v) AS x');
  });

  test('the fallbacks: lookup, then values, then range, then none (row by row)', () => {
    expect(fallbackShape({ rows: 'lookup', range: true })).toEqual({ rows: 'values', range: true });
    expect(fallbackShape({ rows: 'values', range: true })).toEqual({ rows: 'union', range: true });
    expect(fallbackShape({ rows: 'union', range: true })).toEqual({ rows: 'union', range: false });
    expect(fallbackShape({ rows: 'values', range: false })).toEqual({ rows: 'union', range: false });
    expect(fallbackShape({ rows: 'union', range: false })).toBeUndefined();
  });
});

describe('which shape a run starts with', () => {
  let dialect: SparseDialect;
  beforeAll(async () => {
    dialect = selectDialect(await detectServer(db.knex), 'json');
  });
  const whole = { integerIds: true, wholeTable: true, counted: true };

  test('MariaDB, integer ids, the whole table, counted writes: lookup over the range', async () => {
    expect(dialect.server.product).toBe('mariadb');
    expect(await chooseBatchShape(db.knex, dialect, whole)).toEqual({ rows: 'lookup', range: true });
  });

  test('no range for a shard, text ids, or writes outside the statistics transaction', async () => {
    for (const off of ['wholeTable', 'integerIds', 'counted'] as const)
      expect(await chooseBatchShape(db.knex, dialect, { ...whole, [off]: false })).toEqual({
        rows: 'values',
        range: false,
      });
  });

  test('union rows where MariaDB is older than 10.3.3 or not MariaDB, and no range outside portable mode', async () => {
    const older = { ...dialect, server: { ...dialect.server, version: [10, 2, 40] } } as SparseDialect;
    expect(await chooseBatchShape(db.knex, older, whole)).toEqual({ rows: 'lookup', range: true });
    expect(await chooseBatchShape(db.knex, older, { ...whole, wholeTable: false })).toEqual({
      rows: 'union',
      range: false,
    });
    const mysql = { ...dialect, server: { ...dialect.server, product: 'mysql', version: [8, 0, 40] } } as SparseDialect;
    expect((await chooseBatchShape(db.knex, mysql, whole)).rows).toBe('union');
    const oceanbase = {
      ...dialect,
      name: 'oceanbase',
      server: { ...dialect.server, product: 'oceanbase' },
    } as SparseDialect;
    expect(await chooseBatchShape(db.knex, oceanbase, whole)).toEqual({ rows: 'union', range: false });
  });
});

describe('compareIds', () => {
  test('orders decimal ids by value as BigInt does: signs, lengths, and the edges of SIGNED and UNSIGNED BIGINT', () => {
    const edges = [
      0n,
      1n,
      -1n,
      9n,
      10n,
      -9n,
      -10n,
      2n ** 53n,
      2n ** 53n + 1n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 64n - 1n,
    ];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const more = Array.from({ length: 300 }, () => BigInt(random()) * BigInt(random()) * (random() % 2 ? 1n : -1n));
    const ids = [...edges, ...more, ...more.map((x) => x / 1000n)];
    const byBigInt = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
    expect(ids.map(String).sort(compareIds)).toEqual(byBigInt);
    expect(compareIds('42', '42')).toBe(0);
  });
});

describe('the lookup shape', () => {
  test('a statement is prepared for 2^k or 3·2^(k-1) entries: under half of them padding', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 9, 13, 1000, 1025, 10_000].map(lookupSize)).toEqual([
      1, 2, 3, 4, 6, 6, 8, 12, 16, 1024, 1536, 12_288,
    ]);
  });

  test('its entries sorted by id, the padding (largest id, no value, no key) before the real last entry', () => {
    const items = [
      { id: idOf(9), hash: 'h9', value: 'v9' },
      { id: idOf(3), hash: 'h3', value: 'v3' },
      { id: idOf(12), hash: 'h12', value: 'v12' },
      { id: idOf(1000), hash: 'h1000', value: 'v1000' },
      { id: idOf(7), hash: 'h7', value: 'v7' },
    ];
    const { sql, params } = lookupUpdate(t, items, ID);
    const ids = [idOf(3), idOf(7), idOf(9), idOf(12), idOf(1000), idOf(1000)];
    const keys = [`${idOf(3)}:h3`, `${idOf(7)}:h7`, `${idOf(9)}:h9`, `${idOf(12)}:h12`, null, `${idOf(1000)}:h1000`];
    expect(params).toEqual([
      ...ids,
      ...['v3', 'v7', 'v9', 'v12', null, 'v1000'],
      ...[idOf(3), idOf(12), idOf(1000)],
      ...ids,
      ...keys,
    ]);
    const six = Array(6).fill('CAST(? AS SIGNED)').join(', ');
    const list = Array(6).fill('?').join(', ');
    expect(sql).toBe(
      `UPDATE \`m\` AS m SET m.\`sv\` = ELT(INTERVAL(m.\`id\`, ${six}), ${list}) ` +
        'WHERE m.`sv` IS NULL AND (m.`id` BETWEEN CAST(? AS SIGNED) AND CAST(? AS SIGNED) OR m.`id` = CAST(? AS SIGNED)) ' +
        `AND CONCAT(m.\`id\`, ':', MD5(m.\`doc\`)) = ELT(INTERVAL(m.\`id\`, ${six}), ${list})`,
    );
    expect(lookupUpdate(t, items.slice(0, 1), ID).sql).toContain(
      'WHERE m.`sv` IS NULL AND m.`id` = CAST(? AS SIGNED) AND',
    );
  });

  test.each([1, 2, 3, 5, 7, 11, 17, 40])(
    'a batch of %i consecutive ids above 2^53 (padded up to its size) writes each row its own value',
    async (n) => {
      await rows(n + 2);
      const ids = Array.from({ length: n }, (_, k) => k + 2); // rows 1 and n + 2 are outside the batch
      const plan = new WritePlan({ rows: 'lookup', range: true });
      expect(await writeBatch(db.knex, t, await writesFor(ids), ID, undefined, plan)).toBe(n);
      const expected: Record<number, string | null> = { 1: null, [n + 2]: null };
      for (const i of ids) expected[i] = `v${i}`;
      expect(await vectors()).toEqual(expected);
    },
  );

  test("a row of the range that is not in the batch is not written, even with the same text as the batch's row before it", async () => {
    await rows(5);
    await db
      .knex('m')
      .where({ id: idOf(3) })
      .update({ doc: 'text 2' }); // row 3 now has row 2's text, and the batch does not hold it
    const items = await writesFor([1, 2, 4, 5]);
    const plan = new WritePlan({ rows: 'lookup', range: true });
    expect(await writeBatch(db.knex, t, items, ID, undefined, plan)).toBe(4);
    expect(await vectors()).toEqual({ 1: 'v1', 2: 'v2', 3: null, 4: 'v4', 5: 'v5' });
  });

  test('a connection prepares one statement per size, not per batch (they stay on the connection)', async () => {
    await rows(120);
    const plan = new WritePlan({ rows: 'lookup', range: true });
    const own = createKnex(db.connection, { pool: 1 }); // a new connection: nothing prepared on it yet
    try {
      const prepares = (trx: Knex.Transaction) =>
        trx.raw("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'").then(([r]) => Number(r[0].Value));
      const sizes = [5, 6, 5, 6, 1, 40, 33, 24];
      const counted = await own.transaction(async (trx) => {
        const before = await prepares(trx);
        let next = 1;
        for (const n of sizes) {
          const ids = Array.from({ length: n }, (_, k) => next + k);
          next += n;
          expect(await writeBatch(trx, t, await writesFor(ids), ID, undefined, plan)).toBe(n);
        }
        return (await prepares(trx)) - before;
      });
      expect(counted).toBe(new Set(sizes.map(lookupSize)).size); // 6, 1, 48, 24: 4
    } finally {
      await own.destroy();
    }
  });
});

describe("the lookup shape, below knex's query builder", () => {
  test("emits knex's query events: an application's knex.on('query') sees it, with its response or error", async () => {
    await rows(3);
    const seen: string[] = [];
    const onQuery = (q: { sql: string; bindings?: unknown[] }) =>
      seen.push(`query ${q.sql.slice(0, 9)} ${q.bindings?.length ?? 0}`);
    const onResponse = (r: { affectedRows: number }, q: { sql: string }) =>
      seen.push(`response ${q.sql.slice(0, 9)} ${r.affectedRows}`);
    const onError = (e: Error, q: { sql: string }) => seen.push(`error ${q.sql} ${/doesn't exist/.test(e.message)}`);
    db.knex.on('query', onQuery).on('query-response', onResponse).on('query-error', onError);
    try {
      const plan = new WritePlan({ rows: 'lookup', range: true });
      await db.knex.transaction(async (trx) => writeBatch(trx, t, await writesFor([1, 2, 3]), ID, undefined, plan));
      const params = lookupUpdate(t, await writesFor([1, 2, 3]), ID).params.length;
      expect(seen.filter((x) => x.includes('UPDATE'))).toEqual([`query UPDATE \`m ${params}`, 'response UPDATE `m 3']);
      seen.length = 0;
      await expect(executePrepared(db.knex, { sql: 'UPDATE no_such_table SET x = ?', params: ['1'] })).rejects.toThrow(
        /^UPDATE no_such_table SET x = \? - Table .* doesn't exist/,
      );
      expect(seen).toEqual(['query UPDATE no 1', 'error UPDATE no_such_table SET x = ? true']);
    } finally {
      db.knex.off('query', onQuery).off('query-response', onResponse).off('query-error', onError);
    }
  });
});

describe('a server that rejects a shape', () => {
  test.each([
    ['writer:reject-lookup', { rows: 'lookup', range: true }, { rows: 'values', range: true }],
    ['writer:reject-values', { rows: 'values', range: true }, { rows: 'union', range: true }],
    ['writer:reject-range', { rows: 'union', range: true }, { rows: 'union', range: false }],
  ] as const)('%s: the next shape writes the batch, and the later ones; no fallback warning', async (fp, from, to) => {
    process.env.SPARSE_FAILPOINT = fp;
    await rows(6);
    const plan = new WritePlan({ ...from });
    const reasons: string[] = [];
    expect(await writeBatch(db.knex, t, await writesFor([1, 2, 3]), ID, (r) => reasons.push(r), plan)).toBe(3);
    expect(plan).toMatchObject({ form: 'batched', shape: to });
    expect(await writeBatch(db.knex, t, await writesFor([4, 5, 6]), ID, (r) => reasons.push(r), plan)).toBe(3);
    expect(reasons).toEqual([]);
    expect(Object.values(await vectors())).not.toContain(null);
  });

  test('every batched shape rejected: row by row, said once', async () => {
    process.env.SPARSE_FAILPOINT = 'writer:reject-batched';
    await rows(4);
    const plan = new WritePlan({ rows: 'values', range: true });
    const reasons: string[] = [];
    expect(await writeBatch(db.knex, t, await writesFor([1, 2, 3, 4]), ID, (r) => reasons.push(r), plan)).toBe(4);
    expect(plan.form).toBe('per-row');
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/writer:reject-batched/);
  });
});

const RANGED: BatchShape[] = [
  { rows: 'values', range: true },
  { rows: 'lookup', range: true },
];

describe.each(RANGED)('the range shape %o in the statistics transaction locks only the rows it writes', (shape) => {
  let other: Knex.Transaction | undefined;
  afterEach(async () => {
    await other?.rollback().catch(() => undefined);
    other = undefined;
  });

  test('the row after the range, being written by another worker (locked, not committed), does not hold the write up', async () => {
    await rows(12, [5]);
    const items = await writesFor([3, 4, 6, 7, 8, 9, 10]); // range [3, 10]; row 11 is the next batch's first
    other = await db.knex.transaction({ isolationLevel: 'read committed' });
    await other('m')
      .where({ id: idOf(11) })
      .update({ sv: 'next batch' });
    // The write, with a lock wait of 1 s: a scan that read on past row 10 would wait for row 11's lock.
    const plan = new WritePlan({ ...shape });
    const written = await db.knex.transaction(
      async (trx) => {
        await trx.raw('SET SESSION innodb_lock_wait_timeout = 1');
        return writeBatch(trx, t, items, ID, undefined, plan);
      },
      { isolationLevel: 'read committed' },
    );
    expect(written).toBe(7);
    await other.commit();
    other = undefined;
    expect(await vectors()).toMatchObject({ 3: 'v3', 5: 'done', 10: 'v10', 11: 'next batch', 12: null });
  });

  test('while the write is held before its statistics: the next row, a skipped row and the table end are free', async () => {
    await rows(10, [5]);
    await db.knex.raw('CREATE TABLE IF NOT EXISTS m_stats (term BIGINT NOT NULL PRIMARY KEY, df BIGINT NOT NULL)');
    const items = await writesFor([3, 4, 6, 7, 8, 9, 10]); // range [3, 10], row 5 (done) skipped
    let atStats!: () => void;
    const reached = new Promise<void>((r) => (atStats = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const off = onFailpoint('backfill:before-stats', async () => {
      atStats();
      await gate;
    });
    try {
      const plan = new WritePlan({ ...shape });
      const writing = writeBatchCounted(db.knex, t, 'm_stats', items, ID, undefined, plan);
      await reached; // the rows are written, the transaction is open
      // Another session, with a lock wait of 1 s: a gap or row lock of the write would make these fail.
      other = await db.knex.transaction();
      await other.raw('SET SESSION innodb_lock_wait_timeout = 1');
      await other('m')
        .where({ id: idOf(5) })
        .update({ doc: 'text 5, edited' }); // inside the range, not written
      await other('m')
        .where({ id: idOf(2) })
        .update({ doc: 'text 2, edited' }); // the row before the range
      await other('m').insert({ id: idOf(11), doc: 'appended' }); // after the range's last row: the table's end
      await other.commit();
      other = undefined;
      release();
      expect(await writing).toBe(7);
    } finally {
      off();
      release();
    }
    expect(await vectors()).toMatchObject({ 3: 'v3', 5: 'done', 10: 'v10', 11: null });
  });
});
