import { eligibleWhere, countEligible, hasEligibleRow, shardCondition } from '../../src/backfill/queries';
import { SeedLedger } from '../../src/backfill/seed-ledger';
import { writeBatch, writeForm, writePerRow, type PendingWrite } from '../../src/backfill/writer';
import type { SparseTarget } from '../../src/dialect/dialect';
import { KnexLedgerStorage } from '../../src/migrator/ledger';
import { createTestDatabase, type TestDatabase } from '../support/db';

/*
 * The statements that hold the guarantees, one by one on the real server (focused tests for `npm run mutate`,
 * see stryker.units.config.mjs): the write guard (only rows still NULL whose text still has the embedded hash),
 * which rows are eligible (the done probe, the shards), the seeds ledger's start and end ('done' only when
 * nothing is left), the migrations ledger's writes (one row per migration, never after the lock was lost).
 */

let db: TestDatabase;
const t: SparseTarget = { table: 'm', idColumn: 'id', textColumn: 'doc', sparseColumn: 'sv', sparseIndex: 'idx_sv' };

beforeAll(async () => {
  db = await createTestDatabase('ledgerwrites');
  await db.knex.raw('CREATE TABLE m (id BIGINT PRIMARY KEY, doc LONGTEXT NULL, sv LONGTEXT NULL)');
});
afterAll(async () => db.drop());

/** Rows 1..n with texts 'text <i>' and NULL vectors, replacing what was there. */
async function rows(texts: Array<string | null>, vectors: Array<string | null> = []): Promise<void> {
  await db.knex('m').del();
  await db.knex('m').insert(texts.map((doc, i) => ({ id: i + 1, doc, sv: vectors[i] ?? null })));
}

async function hashes(): Promise<Map<string, string>> {
  const [r] = await db.knex.raw('SELECT id, MD5(doc) AS h FROM m');
  return new Map(r.map((x: { id: number; h: string }) => [String(x.id), x.h]));
}

async function vectors(): Promise<Array<string | null>> {
  return (await db.knex('m').select('sv').orderBy('id')).map((r: { sv: string | null }) => r.sv);
}

describe('the write guard', () => {
  async function raced(): Promise<PendingWrite[]> {
    await rows(['one', 'two', 'three', 'four']);
    const h = await hashes();
    // Between the read and the write: the application writes row 2's vector and changes row 3's text.
    await db.knex('m').where({ id: 2 }).update({ sv: 'app' });
    await db.knex('m').where({ id: 3 }).update({ doc: 'three, edited' });
    return ['1', '2', '3', '4'].map((id) => ({ id, hash: h.get(id)!, value: `v${id}` }));
  }

  test('batched: only rows still NULL with the same text are written; the count says how many', async () => {
    const items = await raced();
    expect(await writeBatch(db.knex, t, items)).toBe(2);
    expect(await vectors()).toEqual(['v1', 'app', null, 'v4']);
    expect(writeForm(db.knex)).toBe('batched');
  });

  test('per row (the fallback): the same guard, the same count', async () => {
    const items = await raced();
    expect(await writePerRow(db.knex, t, items)).toBe(2);
    expect(await vectors()).toEqual(['v1', 'app', null, 'v4']);
  });

  test('a single row, and nothing at all', async () => {
    await rows(['one']);
    const h = await hashes();
    expect(await writeBatch(db.knex, t, [])).toBe(0);
    expect(await writeBatch(db.knex, t, [{ id: '1', hash: h.get('1')!, value: 'v1' }])).toBe(1);
    expect(await writeBatch(db.knex, t, [{ id: '1', hash: h.get('1')!, value: 'again' }])).toBe(0);
    expect(await vectors()).toEqual(['v1']);
  });

  test('a server that rejects the batched form: this batch and every later one go per row, said once', async () => {
    // A knex instance of its own: the form is remembered per instance.
    const knexFactory = (await import('knex')).default;
    const { mysql2Options } = await import('../../src/db/knex');
    const separate = knexFactory({
      client: 'mysql2',
      connection: mysql2Options(db.connection),
      pool: { min: 0, max: 2 },
    });
    try {
      const items = await raced();
      const reasons: string[] = [];
      // The server rejects the batched form from here on (the failpoint makes it SIGNAL an error).
      process.env.SPARSE_FAILPOINT = 'writer:reject-batched';
      expect(await writeBatch(separate, t, items, undefined, (r) => reasons.push(r))).toBe(2);
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toContain('rejected');
      expect(writeForm(separate)).toBe('per-row');
      expect(await vectors()).toEqual(['v1', 'app', null, 'v4']);
      // A later batch: per row without trying the batched form again, so no second notice.
      await db.knex('m').where({ id: 3 }).update({ doc: 'three' });
      const h = await hashes();
      const next = [{ id: '3', hash: h.get('3')!, value: 'v3' }];
      expect(await writeBatch(separate, t, next, undefined, (r) => reasons.push(r))).toBe(1);
      expect(reasons).toHaveLength(1);
      expect(writeForm(db.knex)).toBe('batched'); // other instances keep the batched form
    } finally {
      delete process.env.SPARSE_FAILPOINT;
      await separate.destroy();
    }
  });

  test('other server errors are the run’s error: rethrown, the form kept', async () => {
    const missing = { ...t, table: 'no_such_table' };
    const err = await writeBatch(db.knex, missing, [{ id: '1', hash: 'x', value: 'v' }]).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('ER_NO_SUCH_TABLE');
    expect(writeForm(db.knex)).toBe('batched');
  });
});

describe('eligible rows', () => {
  test('eligible: vector NULL and a text that is not only whitespace (spaces, tabs, line breaks)', async () => {
    await rows(['a', null, '', '   ', '\t\n ', ' x ', 'done'], [null, null, null, null, null, null, 'v']);
    expect(await countEligible(db.knex, t)).toBe(2); // rows 1 and 6
    const w = eligibleWhere(t);
    const [r] = await db.knex.raw(`SELECT id FROM m WHERE ${w.sql} ORDER BY id`, w.bindings);
    expect(r.map((x: { id: number }) => Number(x.id))).toEqual([1, 6]);
    expect(await hasEligibleRow(db.knex, t)).toBe(true);
    await db.knex('m').whereIn('id', [1, 6]).update({ sv: 'v' });
    expect(await hasEligibleRow(db.knex, t)).toBe(false);
    expect(await countEligible(db.knex, t)).toBe(0);
  });

  test('shards split the eligible rows: each row in exactly one shard of n; one shard (or none) is the whole table', async () => {
    await rows(Array.from({ length: 60 }, (_, i) => `text ${i}`));
    const byShard: number[][] = [];
    for (let index = 0; index < 3; index++) {
      const w = eligibleWhere(t, { index, count: 3 });
      const [r] = await db.knex.raw(`SELECT id FROM m WHERE ${w.sql}`, w.bindings);
      byShard.push(r.map((x: { id: number }) => Number(x.id)));
      expect(await countEligible(db.knex, t, { index, count: 3 })).toBe(r.length);
    }
    const all = byShard.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const ids of byShard) expect(ids.length).toBeGreaterThan(0);
    expect(await countEligible(db.knex, t, { index: 0, count: 1 })).toBe(60);
    expect(shardCondition(t, { index: 0, count: 1 })).toEqual({ sql: '', bindings: [] });
    expect(shardCondition(t)).toEqual({ sql: '', bindings: [] });
  });

  test('with a table alias, every column is the alias’s', async () => {
    await rows(['a', 'b'], [null, 'v']);
    const w = eligibleWhere(t, { index: 0, count: 2 }, 'x');
    expect(w.sql).not.toMatch(/(^|[^.])`(sv|doc|id)`/); // no column without the alias
    const [r] = await db.knex.raw(`SELECT x.id FROM m AS x JOIN m AS y ON y.id = x.id WHERE ${w.sql}`, w.bindings);
    const plain = eligibleWhere(t, { index: 0, count: 2 });
    const [p] = await db.knex.raw(`SELECT id FROM m WHERE ${plain.sql}`, plain.bindings);
    expect(r.length).toBe(p.length);
  });
});

describe('the seeds ledger', () => {
  const ledger = new SeedLedger('seeds_t');
  const NAME = 'seeder_x';
  const record = async () => (await ledger.get(db.knex, NAME))!;
  beforeEach(async () => {
    await db.knex.schema.dropTableIfExists('seeds_t');
    await rows(['a', 'b']);
  });

  test("start: 'running', runs counted; a 'done' record stays done while a run goes on", async () => {
    await ledger.start(db.knex, NAME);
    expect(await record()).toMatchObject({ status: 'running', runs: 1 });
    await ledger.start(db.knex, NAME);
    expect(await record()).toMatchObject({ status: 'running', runs: 2 });
    await ledger.finish(db.knex, NAME, { status: 'done', migrated: 2, failed: 0 });
    await ledger.start(db.knex, NAME);
    expect(await record()).toMatchObject({ status: 'done', runs: 3 });
    expect((await record()).last_started_at).not.toBeNull();
  });

  test('start with a space check: a refusal changes nothing; the fingerprint is recorded only if none was', async () => {
    await ledger.start(db.knex, NAME, { fingerprint: 'fp-1', check: () => undefined });
    expect(await record()).toMatchObject({ runs: 1, embedder_fingerprint: 'fp-1' });
    await ledger.start(db.knex, NAME, { fingerprint: 'fp-2', check: () => undefined });
    expect(await record()).toMatchObject({ runs: 2, embedder_fingerprint: 'fp-1' });
    const seen: unknown[] = [];
    const refusal = new Error('another embedder');
    await expect(
      ledger.start(db.knex, NAME, {
        fingerprint: 'fp-3',
        check: (r) => {
          seen.push(r?.runs);
          throw refusal;
        },
      }),
    ).rejects.toBe(refusal);
    expect(seen).toEqual([3]); // the check sees the record as this start made it, in the same transaction
    expect(await record()).toMatchObject({ runs: 2, embedder_fingerprint: 'fp-1', status: 'running' });
    await ledger.start(db.knex, NAME, { check: () => undefined });
    expect(await record()).toMatchObject({ runs: 3, embedder_fingerprint: 'fp-1' });
  });

  test('finish: the given status and figures; the error; the checkpoint cleared only when asked', async () => {
    await ledger.start(db.knex, NAME);
    await ledger.saveCheckpoint(db.knex, NAME, { table: 'm', column: 'sv', after: '5', remaining: 1, skipped: 0 });
    await ledger.finish(db.knex, NAME, { status: 'incomplete', migrated: 7, failed: 2, error: 'boom' });
    expect(await record()).toMatchObject({ status: 'incomplete', migrated: 7, failed: 2, last_error: 'boom' });
    expect((await record()).resume_checkpoint).not.toBeNull();
    expect((await record()).last_finished_at).not.toBeNull();
    // An error longer than the ledger keeps (a statement quoted whole): its first 10,000 characters.
    await ledger.finish(db.knex, NAME, { status: 'incomplete', migrated: 0, failed: 0, error: 'e'.repeat(20_000) });
    expect((await record()).last_error).toBe('e'.repeat(10_000));
    await ledger.finish(db.knex, NAME, { status: 'done', migrated: 1, failed: 0, clearCheckpoint: true });
    expect(await record()).toMatchObject({ status: 'done', migrated: 1, failed: 0, last_error: null });
    expect((await record()).resume_checkpoint).toBeNull();
  });

  test("finish with doneUnless: 'done' only when no row matches at the moment of the write", async () => {
    const all = eligibleWhere(t);
    const finish = () =>
      ledger.finish(db.knex, NAME, {
        status: { doneUnless: { table: 'm', where: all.sql, bindings: all.bindings } },
        migrated: 1,
        failed: 0,
      });
    await ledger.start(db.knex, NAME);
    await db.knex('m').where({ id: 1 }).update({ sv: 'v' });
    await finish();
    expect((await record()).status).toBe('incomplete');
    await db.knex('m').where({ id: 2 }).update({ sv: 'v' });
    await finish();
    expect((await record()).status).toBe('done');
    // With bindings (a shard's condition): evaluated with them.
    const shard = eligibleWhere(t, { index: 0, count: 2 });
    await db.knex('m').update({ sv: null });
    await ledger.finish(db.knex, NAME, {
      status: { doneUnless: { table: 'm', where: shard.sql, bindings: shard.bindings } },
      migrated: 0,
      failed: 0,
    });
    const [inShard] = await db.knex.raw(`SELECT COUNT(*) AS n FROM m WHERE ${shard.sql}`, shard.bindings);
    expect((await record()).status).toBe(Number(inShard[0].n) > 0 ? 'incomplete' : 'done');
  });

  test('markNotDone on a ledger of an older version (no checkpoint column): done becomes incomplete', async () => {
    await ledger.ensureTable(db.knex); // as created before the checkpoint column existed
    expect(await db.knex.schema.hasColumn('seeds_t', 'resume_checkpoint')).toBe(false);
    await db.knex('seeds_t').insert({ name: NAME, status: 'done', runs: 1 });
    expect(await ledger.markNotDone(db.knex, NAME)).toBe(true);
    expect((await record()).status).toBe('incomplete');
  });

  test("markNotDone: a 'done' record becomes incomplete (true), its checkpoint and embedding space forgotten", async () => {
    expect(await ledger.markNotDone(db.knex, NAME)).toBe(false); // no ledger yet
    await ledger.start(db.knex, NAME, { fingerprint: 'fp', check: () => undefined });
    await ledger.saveCheckpoint(db.knex, NAME, { table: 'm', column: 'sv', after: '1', remaining: 1, skipped: 0 });
    expect(await ledger.markNotDone(db.knex, NAME)).toBe(false); // running, not done
    expect(await record()).toMatchObject({ status: 'running', resume_checkpoint: null, embedder_fingerprint: null });
    await ledger.finish(db.knex, NAME, { status: 'done', migrated: 2, failed: 0 });
    await ledger.start(db.knex, NAME, { fingerprint: 'fp', check: () => undefined });
    await ledger.finish(db.knex, NAME, { status: 'done', migrated: 2, failed: 0 });
    expect(await ledger.markNotDone(db.knex, NAME)).toBe(true);
    expect(await record()).toMatchObject({ status: 'incomplete', embedder_fingerprint: null });
    await ledger.start(db.knex, 'other');
    await ledger.finish(db.knex, 'other', { status: 'done', migrated: 0, failed: 0 });
    await ledger.markNotDone(db.knex, NAME);
    expect((await ledger.get(db.knex, 'other'))?.status).toBe('done'); // only the named seeder
  });
});

describe('the migrations ledger', () => {
  const TABLE = 'mig_t';
  let storage: KnexLedgerStorage;
  const ledgerRows = async () =>
    (await db.knex(TABLE).select('id', 'name', 'batch').orderBy('id')) as Array<{
      id: number;
      name: string;
      batch: number;
    }>;
  beforeEach(async () => {
    await db.knex.schema.dropTableIfExists(TABLE);
    await db.knex.schema.dropTableIfExists(`${TABLE}_lock`);
    storage = new KnexLedgerStorage(TABLE);
  });

  test('one row per migration; one batch per run, the next run the next batch; a rerun moves the row', async () => {
    storage.startRun();
    await storage.logMigration({ name: 'a', context: db.knex });
    await storage.logMigration({ name: 'b', context: db.knex });
    storage.startRun();
    await storage.logMigration({ name: 'c', context: db.knex });
    expect((await ledgerRows()).map((r) => [r.name, r.batch])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 2],
    ]);
    storage.startRun();
    await storage.logMigration({ name: 'a', context: db.knex });
    expect((await ledgerRows()).map((r) => [r.name, r.batch])).toEqual([
      ['a', 3],
      ['b', 1],
      ['c', 2],
    ]);
    expect(await storage.executed({ context: db.knex })).toEqual(['a', 'b', 'c']);
  });

  test('rows written twice by an earlier version: a new log keeps the first and drops the others', async () => {
    storage.startRun();
    await storage.logMigration({ name: 'a', context: db.knex });
    await storage.logMigration({ name: 'b', context: db.knex });
    await db.knex(TABLE).insert([
      { name: 'a', batch: 1 },
      { name: 'a', batch: 1 },
    ]);
    const firstId = (await ledgerRows())[0].id;
    storage.startRun();
    await storage.logMigration({ name: 'a', context: db.knex });
    const after = await ledgerRows();
    expect(after.filter((r) => r.name === 'a').map((r) => r.id)).toEqual([firstId]);
    expect(after.map((r) => r.name)).toEqual(['a', 'b']);
  });

  test('the guard (the lock check) runs before every write; when it throws nothing is written or removed', async () => {
    const lost = new Error('LOCK_LOST');
    let calls = 0;
    storage.startRun(async () => {
      calls++;
    });
    await storage.logMigration({ name: 'a', context: db.knex });
    expect(calls).toBe(1);
    storage.startRun(async () => {
      throw lost;
    });
    await expect(storage.logMigration({ name: 'b', context: db.knex })).rejects.toBe(lost);
    await expect(storage.unlogMigration({ name: 'a', context: db.knex })).rejects.toBe(lost);
    expect((await ledgerRows()).map((r) => r.name)).toEqual(['a']);
    storage.startRun(); // no guard: writes go through
    await storage.unlogMigration({ name: 'a', context: db.knex });
    expect(await ledgerRows()).toEqual([]);
  });

  test('unlog without a ledger table does nothing (and needs no guard)', async () => {
    const guard = jest.fn(async () => undefined);
    storage.startRun(guard);
    await storage.unlogMigration({ name: 'a', context: db.knex });
    expect(guard).not.toHaveBeenCalled();
    expect(await db.knex.schema.hasTable(TABLE)).toBe(false);
  });
});
