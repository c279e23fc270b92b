import { runBackfill } from '../../src/backfill';
import { idPlaceholder } from '../../src/backfill/reader';
import { writeBatch, writeForm, writePerRow } from '../../src/backfill/writer';
import type { SparseTarget } from '../../src/dialect/dialect';
import { createMemoryLogger } from '../../src/util/logger';
import { captureStream, checkTable, jsonLines, portableConfig, upgrade } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const t: SparseTarget = {
  table: 'memories',
  idColumn: 'id',
  textColumn: 'document',
  sparseColumn: 'sparse_embedding',
  sparseIndex: 'sparse_embedding_idx',
};

describe('writer fallback: per-row UPDATEs in one transaction when the server rejects UPDATE … JOIN', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('writerfb');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 120 });
    await upgrade(db);
  });
  afterEach(async () => {
    delete process.env.SPARSE_FAILPOINT;
    await db.drop();
  });

  test('forced rejection (failpoint writer:reject-batched): writes every row right, per row', async () => {
    process.env.SPARSE_FAILPOINT = 'writer:reject-batched';
    const logger = createMemoryLogger();
    const summary = await runBackfill({
      config: portableConfig(db),
      knex: db.knex,
      batchSize: 25,
      workers: 2,
      delaySeconds: 0,
      progress: 'none',
      logger,
    });
    expect(summary).toMatchObject({ ok: true, migrated: 120, failed: 0 });
    // Every batched statement is rejected while the failpoint is set: 120 rows written means the per-row form wrote them.
    expect(await checkTable(db)).toMatchObject({ wrong: [], nullEligible: 0, embedded: 120 });
    // The fallback is said once (a 'writer-fallback' event the reporter prints), with the server's reason.
    const warnings = logger.lines.filter((l) => /rejected every shape of the batched UPDATE/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Warning: .*failpoint writer:reject-batched.*writing row by row/);
  });

  test('the fallback warning reaches plain output and --json once per run (several batches, two workers)', async () => {
    process.env.SPARSE_FAILPOINT = 'writer:reject-batched';
    const plain = captureStream();
    await runBackfill({
      config: portableConfig(db),
      knex: db.knex,
      batchSize: 10,
      workers: 2,
      delaySeconds: 0,
      progress: 'plain',
      out: plain,
    });
    expect(
      plain.text.match(/rejected every shape of the batched UPDATE \(.*writer:reject-batched.*\): writing row by row/g),
    ).toHaveLength(1);
    await db.knex('memories').update({ sparse_embedding: null });
    const json = captureStream();
    const summary = await runBackfill({
      config: portableConfig(db),
      knex: db.knex,
      batchSize: 10,
      workers: 2,
      delaySeconds: 0,
      progress: 'json',
      out: json,
    });
    expect(summary).toMatchObject({ ok: true, migrated: 120 });
    const events = jsonLines(json.text).filter((e) => e.event === 'writer-fallback');
    expect(events).toHaveLength(1);
    expect(events[0].reason).toMatch(/writer:reject-batched/);
  });

  test('per-row form keeps the guards: an application value and a changed text are never overwritten', async () => {
    const rows: Array<{ id: string; hash: string }> = await db.knex
      .raw('SELECT id, MD5(document) AS hash FROM memories ORDER BY id LIMIT 3')
      .then((r: [Array<{ id: string; hash: string }>]) => r[0]);
    await db.knex('memories').where({ id: rows[0].id }).update({ sparse_embedding: '[[9,9]]' }); // the application wrote it
    await db.knex('memories').where({ id: rows[1].id }).update({ document: 'changed meanwhile' }); // its text changed
    const idParam = await idPlaceholder(db.knex, t);
    const n = await writePerRow(
      db.knex,
      t,
      rows.map((r) => ({ id: String(r.id), hash: r.hash, value: '[[1,1]]' })),
      idParam,
    );
    expect(n).toBe(1);
    const after: Array<{ id: string; sparse_embedding: unknown }> = await db
      .knex('memories')
      .select('id', 'sparse_embedding')
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .orderBy('id');
    const stored = after.map((r) =>
      r.sparse_embedding === null
        ? null
        : typeof r.sparse_embedding === 'string'
          ? r.sparse_embedding
          : JSON.stringify(r.sparse_embedding),
    );
    expect(stored).toEqual(['[[9,9]]', null, '[[1,1]]']);
  });

  test('an error other than a rejected form is not swallowed by the fallback', async () => {
    const err = await writeBatch(db.knex, { ...t, sparseColumn: 'no_such_column' }, [
      { id: '1', hash: 'x', value: '[]' },
    ]).catch((e: unknown) => e as { errno?: number });
    expect((err as { errno?: number }).errno).toBe(1054);
    expect(writeForm(db.knex)).toBe('batched');
  });
});
