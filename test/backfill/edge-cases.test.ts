import os from 'node:os';
import path from 'node:path';
import { backfillOnBoot, runBackfill, runSeeder } from '../../src/backfill';
import { SeedLedger } from '../../src/backfill/seed-ledger';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import { createSparseMigrator } from '../../src/migrator/umzug';
import { sampleId } from '../../testing/sample-memories';
import { parsePortableJson, sparseEquals } from '../../src/sparse/sparse-vector';
import { silentLogger } from '../../src/util/logger';
import type { BackfillProgress } from '../../src/backfill';
import {
  captureStream,
  checkTable,
  gated,
  jsonLines,
  portableConfig,
  resetBackfill,
  slowed,
  storedJson,
  upgrade,
} from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const SEEDER = '20250601000100_backfill_sparse_vector';

describe('ids and columns: BIGINT UNSIGNED ids near 2^64, a configured text column', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('unsigned');
  });
  afterAll(async () => db.drop());

  test('keyset paging is exact above 2^53 (consecutive ids a double cannot tell apart); textColumn is honoured', async () => {
    await db.knex.raw(
      'CREATE TABLE notes (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, content LONGTEXT NULL, document LONGTEXT NULL)',
    );
    const base = 18446744073709551000n; // near 2^64 - 1
    const rows = Array.from({ length: 240 }, (_, i) => ({
      id: (i < 120 ? base + BigInt(i) : 9007199254740993n + BigInt(i)).toString(), // 2^53 + 1 + i
      content: `note ${i} about ${['tea', 'boats', 'lighthouses', 'rain'][i % 4]} and the number ${i * 7}`,
      document: i % 2 ? 'the wrong column' : null,
    }));
    await db.knex('notes').insert(rows);
    const config = portableConfig(db, { table: 'notes', textColumn: 'content' });
    const m = createSparseMigrator({ config, logger: silentLogger });
    await m.umzug.up();
    await m.close();

    const s = await runBackfill({ config, workers: 3, batchSize: 7, delaySeconds: 0, progress: 'none' });
    expect(s).toMatchObject({ ok: true, migrated: 240, failed: 0, changed: 0, remaining: 0, total: 240 });
    const stored: Array<{ id: string; content: string; sparse_embedding: unknown }> = await db
      .knex('notes')
      .select('id', 'content', 'sparse_embedding');
    const local = new LocalSparseEmbedder();
    const expected = await local.embedDocuments(stored.map((r) => r.content));
    stored.forEach((r, i) => {
      expect(r.sparse_embedding).not.toBeNull();
      expect(sparseEquals(parsePortableJson(r.sparse_embedding), expected[i])).toBe(true);
    });
  });
});

describe('rows the server rejects at write time are isolated by splitting the write', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('rejects');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 300, emptyRate: 0 });
    await upgrade(db);
    // A trigger stands in for any server-side rejection of a value (a constraint, a type check, ...).
    await db.knex.raw(
      'CREATE TRIGGER reject_marked BEFORE UPDATE ON memories FOR EACH ROW BEGIN ' +
        "IF NEW.sparse_embedding IS NOT NULL AND NEW.document LIKE '%REJECTME%' THEN " +
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'row rejected by the server'; END IF; END",
    );
  });
  afterAll(async () => db.drop());

  test('exactly the rejected rows fail (with the server message), batch-failed events name the write stage', async () => {
    const bad = [sampleId(3), sampleId(140), sampleId(141), sampleId(299)];
    for (const id of bad)
      await db
        .knex('memories')
        .where({ id })
        .update({ document: db.knex.raw("CONCAT(document, ' REJECTME')") });
    const out = captureStream();
    const s = await runBackfill({
      config: portableConfig(db),
      workers: 2,
      batchSize: 60,
      delaySeconds: 0,
      progress: 'json',
      out,
    });
    expect(s).toMatchObject({ ok: false, failed: 4, migrated: 296, changed: 0 });
    expect(s.error).toBeUndefined();
    expect(s.failures.map((f) => f.id).sort()).toEqual([...bad].sort());
    for (const f of s.failures) expect(f.reason).toContain('row rejected by the server');
    const events = jsonLines(out.text);
    const splits = events.filter((e) => e.event === 'batch-failed');
    expect(splits.length).toBeGreaterThan(0);
    expect(splits.every((e) => e.stage === 'write' && e.next === 'split' && e.reason.includes('row rejected'))).toBe(
      true,
    );
    expect(
      events
        .filter((e) => e.event === 'row-failed')
        .map((e) => e.id)
        .sort(),
    ).toEqual([...bad].sort());
    const check = await checkTable(db);
    expect(check).toMatchObject({ wrong: [], nullEligible: 4 });
  });
});

describe('options, limits, dry-run report, stop and the boot API', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('options');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 500, emptyRate: 0 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());
  // Each test starts from a table with every vector NULL and no ledger (they run in any order).
  beforeEach(async () => resetBackfill(db));

  test('an unusable failures file is refused before anything is read or written', async () => {
    const file = path.join(os.tmpdir(), 'no-such-dir-svm', 'sub', 'failures.jsonl');
    await expect(
      runBackfill({ config: portableConfig(db), failuresFile: file, progress: 'none' }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('Cannot open the failures file'),
    });
    await expect(runBackfill({ config: portableConfig(db), batchSize: 0, progress: 'none' })).rejects.toThrow(
      'batchSize=0 is not an integer between 1 and 10000.',
    );
    await expect(
      runBackfill({ config: portableConfig(db), shard: { index: 3, count: 3 }, progress: 'none' }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect((await checkTable(db)).embedded).toBe(0);
  });

  test('dry run: reports what it would write (sample, sizes, rate, estimate) and writes nothing', async () => {
    const out = captureStream();
    const s = await runBackfill({
      config: portableConfig(db),
      dryRun: true,
      dryRunLimit: 40,
      batchSize: 15,
      delaySeconds: 0,
      progress: 'plain',
      out,
    });
    expect(s).toMatchObject({ dryRun: true, migrated: 40, total: 40, remaining: 500 });
    expect(s.wouldWrite?.rows).toBe(40);
    expect(s.wouldWrite?.sample).toHaveLength(3);
    expect(s.wouldWrite!.averageTerms).toBeGreaterThan(1);
    expect(out.text).toContain('[DRY RUN] Mode enabled - will only test with 40 records (nothing is written)');
    expect(out.text).toMatch(
      /\[DRY RUN\] Would write 40 vectors to memories\.sparse_embedding \(on average [\d.]+ terms, [\d,]+ bytes each\), for example:\n {2}id \d+: \d+ terms \[\[/,
    );
    expect(out.text).toMatch(/\[DRY RUN\] At this rate the 500 rows to migrate would take about /);
    expect(out.text).not.toContain('To resume');
    expect((await checkTable(db)).embedded).toBe(0);
  });

  test('limit: exactly N rows, then the summary says how to continue', async () => {
    const out = captureStream();
    const s = await runBackfill({
      config: portableConfig(db),
      limit: 120,
      batchSize: 50,
      workers: 2,
      delaySeconds: 0,
      progress: 'plain',
      out,
    });
    expect(s).toMatchObject({ ok: true, migrated: 120, total: 120, remaining: 380 });
    expect(out.text).toContain('Migrated: 120 | Failed: 0 | Changed during the run: 0 | Still NULL: 380');
    expect(out.text).toContain('To resume, run the same command again: rows still NULL are picked up.');
    expect((await checkTable(db)).embedded).toBe(120);
  });

  test('abort: no new batch after the signal, in-flight ones finish; totals add up; the next run completes', async () => {
    const controller = new AbortController();
    const seen: BackfillProgress[] = [];
    const s = await runBackfill({
      config: portableConfig(db),
      embedder: slowed(30),
      batchSize: 10,
      workers: 2,
      delaySeconds: 0,
      progress: 'none',
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.processed >= 40) controller.abort();
      },
    });
    expect(s).toMatchObject({ ok: false, stopped: true, failed: 0 });
    // Only batches already taken when the signal came were finished: per worker one being written and one
    // being embedded (read-ahead batches not yet started are dropped).
    expect(s.migrated).toBeGreaterThanOrEqual(40);
    expect(s.migrated).toBeLessThanOrEqual(40 + 2 * 2 * 10);
    expect(s.total).toBe(s.migrated + s.failed + s.remaining);
    expect(s.remaining).toBe(500 - s.migrated);
    // The callback saw the same numbers as the summary: its last report is the run's final count.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[seen.length - 1].migrated).toBe(s.migrated);
    expect((await checkTable(db)).wrong).toEqual([]);
  });

  test('backfillOnBoot: background handle, abort(), then a full run records done; once done a boot run is a no-op', async () => {
    const ledger = new SeedLedger('sparse_vector_seeds');
    const gate = gated();
    const handle = backfillOnBoot({
      databaseUrl: db.url,
      storage: 'json',
      background: true,
      embedder: gate.embedder,
      batchSize: 10,
      delaySeconds: 0,
    });
    // Returned at once: the handle is there while the run has not ended (no wall-clock bound).
    let ended = false;
    void handle.done.then(() => (ended = true));
    await Promise.resolve();
    expect(ended).toBe(false);
    await gate.entered; // a batch is being embedded: the stop lands with work in flight
    expect(ended).toBe(false);
    handle.abort();
    gate.open();
    const first = await handle.done;
    expect(first).toMatchObject({ stopped: true, ok: false, failed: 0 });
    expect(first.error).toBeUndefined();
    expect(first.remaining).toBeGreaterThan(0);
    expect((await ledger.get(db.knex, SEEDER))?.status).toBe('incomplete');

    const second = await backfillOnBoot({ config: portableConfig(db), workers: 3, delaySeconds: 0 });
    expect(second).toMatchObject({ ok: true, remaining: 0, migrated: first.remaining });
    expect(await ledger.get(db.knex, SEEDER)).toMatchObject({ status: 'done', runs: 2 });
    const third = await backfillOnBoot({ config: portableConfig(db) });
    expect(third).toMatchObject({ ok: true, skippedReason: 'already-done', migrated: 0 });
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });

    const broken = await backfillOnBoot({ databaseUrl: db.url, storage: 'json', batchSize: -1 });
    expect(broken.ok).toBe(false);
    expect(broken.error?.message).toContain('is not an integer between 1 and 10000');
  });
});

describe('two identical seeder runs at once', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('busy');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 200, emptyRate: 0 });
    await upgrade(db);
  });
  afterAll(async () => db.drop());

  test('the second returns at once as busy; another shard is not blocked; the table ends right', async () => {
    const gate = gated();
    let firstSettled = false;
    const first = runSeeder({
      config: portableConfig(db),
      embedder: gate.embedder,
      batchSize: 10,
      delaySeconds: 0,
      progress: 'none',
    }).finally(() => (firstSettled = true));
    await gate.entered; // the first run holds the lock and is held at its first batch
    const out = captureStream();
    const second = await runSeeder({ config: portableConfig(db), delaySeconds: 0, progress: 'plain', out });
    expect(second).toMatchObject({ skippedReason: 'busy', migrated: 0 });
    expect(out.text).toContain("Another backfill run is already working on table 'memories'; nothing to do here.");
    // Another shard has its own lock: it runs to the end while the first run is still held.
    const shard = await runSeeder({
      config: portableConfig(db),
      shard: { index: 1, count: 2 },
      delaySeconds: 0,
      progress: 'none',
    });
    expect(shard.skippedReason).toBeUndefined();
    expect(shard.migrated).toBeGreaterThan(0);
    expect(firstSettled).toBe(false);
    gate.open();
    const a = await first;
    expect(a.ok).toBe(true);
    expect(a.migrated + shard.migrated).toBe(200); // the guard keeps them from writing a row twice
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0 });
  });
});

describe('the write guard and the seeds ledger, statement by statement on the server', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('guard');
    await createMemoriesTable(db.knex);
    await upgrade(db);
  });
  afterAll(async () => db.drop());
  // Each test starts from the three rows with NULL vectors and no ledger (they run in any order).
  beforeEach(async () => {
    await db.knex('memories').del();
    await db.knex('memories').insert([
      { id: 1, document: 'first text' },
      { id: 2, document: 'second text' },
      { id: 3, document: 'third text' },
    ]);
    await db.knex.schema.dropTableIfExists('sparse_vector_seeds');
  });

  test('writeBatch writes only rows still NULL whose text still has the hash that was embedded', async () => {
    const { writeBatch } = await import('../../src/backfill/writer');
    const { targetOf } = await import('../../src/schema/sparse-schema');
    const [hashes] = await db.knex.raw('SELECT id, MD5(document) AS h FROM memories ORDER BY id');
    const h = new Map<string, string>(hashes.map((r: { id: string; h: string }) => [String(r.id), r.h]));
    // Between read and write: the application gives row 2 a vector of its own and changes row 3's text.
    await db.knex('memories').where({ id: 2 }).update({ sparse_embedding: '[[5,1]]' });
    await db.knex('memories').where({ id: 3 }).update({ document: 'third text, edited' });
    const written = await writeBatch(db.knex, targetOf(portableConfig(db)), [
      { id: '1', hash: h.get('1')!, value: '[[1,0.5]]' },
      { id: '2', hash: h.get('2')!, value: '[[2,0.5]]' },
      { id: '3', hash: h.get('3')!, value: '[[3,0.5]]' },
    ]);
    expect(written).toBe(1);
    const rows = await db.knex('memories').select('id', 'sparse_embedding').orderBy('id');
    expect(
      rows.map((r: { id: string; sparse_embedding: unknown }) => [
        String(r.id),
        r.sparse_embedding === null ? null : storedJson(r.sparse_embedding),
      ]),
    ).toEqual([
      ['1', '[[1,0.5]]'],
      ['2', '[[5,1]]'], // the application's value, untouched
      ['3', null], // the embedding of the old text was not stored; the next run embeds the new one
    ]);
  });

  test("the seeds ledger says 'done' only if no eligible NULL row exists when it is written (late shards cannot undo it)", async () => {
    const ledger = new SeedLedger('sparse_vector_seeds');
    const { eligibleWhere } = await import('../../src/backfill/queries');
    const { targetOf } = await import('../../src/schema/sparse-schema');
    const all = eligibleWhere(targetOf(portableConfig(db)));
    const finish = () =>
      ledger.finish(db.knex, SEEDER, {
        status: { doneUnless: { table: 'memories', where: all.sql, bindings: all.bindings } },
        migrated: 1,
        failed: 0,
      });
    await db.knex('memories').whereIn('id', [1, 2]).update({ sparse_embedding: '[[1,1]]' });
    await ledger.start(db.knex, SEEDER);
    await finish(); // row 3 is still NULL
    expect((await ledger.get(db.knex, SEEDER))?.status).toBe('incomplete');
    await db.knex('memories').where({ id: 3 }).update({ sparse_embedding: '[[3,1]]' });
    await finish();
    expect((await ledger.get(db.knex, SEEDER))?.status).toBe('done');
  });
});

describe('a server error on a large batched write', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('long_error');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 600, emptyRate: 0 });
    await upgrade(db);
    // A trigger stands in for a server error that ends the run (errno 1290: the server is read-only).
    await db.knex.raw(
      'CREATE TRIGGER refuse_all BEFORE UPDATE ON memories FOR EACH ROW BEGIN ' +
        "SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1290, MESSAGE_TEXT = 'refused by the stand-in trigger'; END",
    );
  });
  afterAll(async () => db.drop());

  test('the run ends with the server message and the statement cut short; the ledger records it', async () => {
    // A batch of 500 rows makes a statement of ~400 kB (the join shapes, values included; the lookup shape's
    // text is ~25 kB, placeholders only), whose text knex puts in the error message: more than the ledger's
    // last_error (TEXT) holds, so its write failed and the run ended on that instead.
    const s = await runSeeder({
      config: portableConfig(db),
      workers: 1,
      batchSize: 500,
      delaySeconds: 0,
      progress: 'none',
    });
    expect(s).toMatchObject({ ok: false, migrated: 0 });
    const message = s.error?.message ?? '';
    expect(message).toMatch(
      /^UPDATE `memories` AS m (SET|(STRAIGHT_)?JOIN \(SELECT) .*… \(a statement of [\d,]+ characters\) - refused by the stand-in trigger$/s,
    );
    expect(message.length).toBeLessThan(500);
    // The whole statement's length (it was once shortened twice on its way up, and then gave the first cut's).
    const length = Number(/a statement of ([\d,]+) characters/.exec(message)![1].replace(/,/g, ''));
    expect(length).toBeGreaterThan(20_000); // the lookup shape's text for 512 entries; a join's: ~400 kB
    const ledger = await db.knex('sparse_vector_seeds').where({ name: SEEDER }).first();
    expect(ledger).toMatchObject({ status: 'incomplete', last_error: message });
    const [{ n }] = await db.knex('memories').whereNotNull('sparse_embedding').count({ n: '*' });
    expect(Number(n)).toBe(0);
  });

  test("any error longer than the ledger's last_error holds is kept cut, and the run's end is recorded", async () => {
    const ledger = new SeedLedger('sparse_vector_seeds');
    await ledger.start(db.knex, SEEDER);
    await ledger.finish(db.knex, SEEDER, { status: 'incomplete', migrated: 0, failed: 0, error: 'é'.repeat(70_000) });
    const row = await db.knex('sparse_vector_seeds').where({ name: SEEDER }).first();
    expect(row.last_error).toBe('é'.repeat(10_000));
  });
});
