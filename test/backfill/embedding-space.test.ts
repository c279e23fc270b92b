import { backfillOnBoot, runSeeder } from '../../src/backfill';
import { formatVerifyReport, verifySparseVector } from '../../src/verify/verify';
import { addEmbeddingSpaceColumns, SeedLedger } from '../../src/backfill/seed-ledger';
import {
  canonicalFingerprint,
  createEmbedder,
  describeFingerprint,
  fingerprintOf,
  LocalSparseEmbedder,
} from '../../src/embedders';
import type { SparseEmbedder } from '../../src/embedders/types';
import { sparseSearch } from '../../src/search/sparse-search';
import { onFailpoint } from '../../src/util/failpoint';
import { captureStream, checkTable, gated, portableConfig, storedJson, upgrade } from '../support/backfill';
import { sparseVector, startAt, umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

const OLD = new LocalSparseEmbedder({ threads: 0 }); // the default: bm25-fnv1a-v2, index space 500000
const NEW = new LocalSparseEmbedder({ threads: 0, indexSpace: 1000 });
const OLD_NAME = 'local bm25-fnv1a-v2 (index space 500000)';
const NEW_NAME = 'local bm25-fnv1a-v2 (index space 1000)';
const QWEN_NAME = 'qwen text-embedding-v4 (dimension 1024)';
const QWEN_KEY = 'sk-EMBSPACE-7a6b5c4d3e2f';
const qwen = (): SparseEmbedder => createEmbedder({ provider: 'qwen', apiKey: QWEN_KEY, dims: 1024 });
const TEAPOT = 'Grandma Rosalind keeps her porcelain teapot collection in the attic of the lighthouse';

describe('embedder fingerprints', () => {
  test('each provider declares the settings that change its vectors, never a secret', () => {
    expect(describeFingerprint(fingerprintOf(OLD))).toBe(OLD_NAME);
    expect(describeFingerprint(fingerprintOf(NEW))).toBe(NEW_NAME);
    const q = qwen();
    expect(describeFingerprint(fingerprintOf(q))).toBe(QWEN_NAME);
    expect(canonicalFingerprint(fingerprintOf(q))).toBe(
      '{"model":"text-embedding-v4","params":{"dimension":1024},"provider":"qwen"}',
    );
    // The region (base URL) does not change qwen's vectors; the key is never part of it.
    const intl = createEmbedder({
      provider: 'qwen',
      apiKey: 'sk-other',
      dims: 1024,
      baseUrl: 'https://dashscope-intl.aliyuncs.com',
    });
    expect(canonicalFingerprint(fingerprintOf(intl))).toBe(canonicalFingerprint(fingerprintOf(q)));
    const tei = createEmbedder({
      provider: 'tei',
      baseUrl: 'http://user:pw@127.0.0.1:8080/',
      apiKey: 'tk-1234567890',
    });
    const teiText = canonicalFingerprint(fingerprintOf(tei));
    expect(describeFingerprint(teiText)).toBe('tei (at http://127.0.0.1:8080/embed_sparse)');
    expect(teiText).not.toMatch(/user|pw|tk-/);
    const named = createEmbedder({ provider: 'tei', baseUrl: 'http://10.0.0.1:8080', model: 'naver/splade-v3' });
    expect(describeFingerprint(fingerprintOf(named))).toBe('tei naver/splade-v3');
    // Settings that only change how vectors are fetched are not part of it.
    expect(canonicalFingerprint(fingerprintOf(new LocalSparseEmbedder({ threads: 2 })))).toBe(
      canonicalFingerprint(fingerprintOf(OLD)),
    );
  });
});

describe('one embedding space per column (MariaDB, portable mode)', () => {
  let db: TestDatabase;
  let seeds: string;
  const config = () => portableConfig(db);
  const env = (extra: Record<string, string> = {}) =>
    db.env({ SPARSE_VECTOR_STORAGE: 'json', OCEANBASE_COLLECTION: 'memories', ...extra });
  const ledger = async () => (await db.knex(seeds).select('*')) as Array<Record<string, unknown>>;
  const nullCount = async (ids?: string[]) => {
    const q = db.knex('memories').whereNull('sparse_embedding').count({ n: '*' });
    if (ids) q.whereIn('id', ids);
    return Number((await q)[0].n);
  };

  beforeEach(async () => {
    db = await createTestDatabase('embspace');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 120, emptyRate: 0 });
    await db.knex('memories').insert({ id: '1900000000000000001', document: TEAPOT });
    await upgrade(db);
    seeds = config().seedsTable;
    const first = await runSeeder({ config: config(), embedder: OLD, delaySeconds: 0, progress: 'none' });
    expect(first).toMatchObject({ ok: true, migrated: 121 });
  });
  afterEach(async () => {
    delete process.env.SPARSE_FAILPOINT;
    await db.drop();
  });

  test('the first run records its embedder; a backfill with another one is refused, naming both, and nothing changes', async () => {
    expect(await ledger()).toMatchObject([
      { embedder_fingerprint: canonicalFingerprint(fingerprintOf(OLD)), reembed_to: null, status: 'done' },
    ]);
    const ten = (await db.knex('memories').select('id').orderBy('id').limit(10)).map((r: { id: unknown }) =>
      String(r.id),
    );
    await db.knex('memories').whereIn('id', ten).update({ sparse_embedding: null });
    const before = await ledger();
    for (const embedder of [NEW, qwen()]) {
      const err = await runSeeder({ config: config(), embedder, delaySeconds: 0, progress: 'none' }).catch((e) => e);
      expect(err).toMatchObject({ name: 'SparseVectorError', code: 'EMBEDDER_CHANGED' });
      expect(err.message).toContain(`made by ${OLD_NAME}`);
      expect(err.message).toContain(`uses ${embedder === NEW ? NEW_NAME : QWEN_NAME}`);
      expect(err.hint).toMatch(/Set the embedder back to local .*npx umzug seed --reembed/);
    }
    // At application boot the refusal is a value, not a throw.
    const boot = await backfillOnBoot({ config: config(), embedder: NEW });
    expect(boot).toMatchObject({ ok: false, error: { code: 'EMBEDDER_CHANGED' } });
    expect(await ledger()).toEqual(before);
    expect(await nullCount()).toBe(10);
  });

  test('an embedder recorded by a run that stored no vector claims nothing: another embedder is accepted', async () => {
    // The state a first run leaves when its embedder was unreachable: its embedder recorded, no vector stored.
    await db.knex('memories').update({ sparse_embedding: null });
    const out = captureStream();
    const r = await runSeeder({ config: config(), embedder: NEW, delaySeconds: 0, progress: 'plain', out });
    expect(r).toMatchObject({ ok: true, migrated: 121 });
    expect(out.text).toContain(
      `No vector is stored in memories.sparse_embedding yet: the embedder an earlier run recorded (${OLD_NAME}) is replaced by ${NEW_NAME}.`,
    );
    expect(await ledger()).toMatchObject([{ embedder_fingerprint: canonicalFingerprint(fingerprintOf(NEW)) }]);
    // Now vectors of NEW are stored: OLD is refused.
    await db.knex('memories').where('id', '1900000000000000001').update({ sparse_embedding: null });
    const err = await runSeeder({ config: config(), embedder: OLD, delaySeconds: 0, progress: 'none' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'EMBEDDER_CHANGED' });
  });

  test('a shard with another embedder is refused while a shard that recorded its embedder has not yet written', async () => {
    // Shard 0/2 (OLD) has recorded its embedder and is embedding its first batch: no vector stored yet.
    await db.knex('memories').update({ sparse_embedding: null });
    await db.knex(seeds).update({ embedder_fingerprint: null, status: 'incomplete' });
    const first = gated(OLD);
    const run0 = runSeeder({
      config: config(),
      embedder: first.embedder,
      shard: { index: 0, count: 2 },
      delaySeconds: 0,
      progress: 'none',
    });
    try {
      await first.entered;
      expect(await ledger()).toMatchObject([{ embedder_fingerprint: canonicalFingerprint(fingerprintOf(OLD)) }]);
      // Shard 1/2 with NEW must not take the space over: the vectors shard 0 is about to write are OLD's.
      const shard = { index: 1, count: 2 };
      const err = await runSeeder({ config: config(), embedder: NEW, shard, delaySeconds: 0, progress: 'none' }).catch(
        (e) => e,
      );
      expect(err).toMatchObject({ code: 'EMBEDDER_CHANGED' });
      expect(await nullCount()).toBe(121);
    } finally {
      first.open();
    }
    expect(await run0).toMatchObject({ ok: true });
    expect(await ledger()).toMatchObject([{ embedder_fingerprint: canonicalFingerprint(fingerprintOf(OLD)) }]);
  });

  test('a run that starts between the no-vector check and the forget keeps its recorded embedder', async () => {
    await db.knex('memories').update({ sparse_embedding: null });
    const first = gated(OLD);
    let run0: Promise<unknown> | undefined;
    // Shard 1/2 (NEW) finds OLD recorded and no vector stored; just then shard 0/2 (OLD) starts and records.
    const off = onFailpoint('space:before-forget', async () => {
      const shard = { index: 0, count: 2 };
      run0 = runSeeder({ config: config(), embedder: first.embedder, shard, delaySeconds: 0, progress: 'none' });
      await first.entered;
    });
    try {
      const shard = { index: 1, count: 2 };
      const err = await runSeeder({ config: config(), embedder: NEW, shard, delaySeconds: 0, progress: 'none' }).catch(
        (e) => e,
      );
      expect(err).toMatchObject({ code: 'EMBEDDER_CHANGED' });
    } finally {
      off();
      first.open();
    }
    expect(await run0).toMatchObject({ ok: true });
    expect(await ledger()).toMatchObject([{ embedder_fingerprint: canonicalFingerprint(fingerprintOf(OLD)) }]);
  });

  test('npx umzug seed with another embedder: exit 1, both embedders named, the fix on the next line, ledger unchanged', async () => {
    await db.knex('memories').where('id', '1900000000000000001').update({ sparse_embedding: null });
    const before = await ledger();
    const r = await umzug(
      ['seed'],
      env({ SPARSE_EMBEDDER_PROVIDER: 'qwen', SPARSE_EMBEDDER_API_KEY: QWEN_KEY, SPARSE_EMBEDDER_DIMS: '1024' }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `made by ${escape(OLD_NAME)}, but this backfill uses ${escape(QWEN_NAME)}.*\\n.*re-embed the whole table`,
      ),
    );
    expect(await ledger()).toEqual(before);
    expect(await nullCount()).toBe(1);
  });

  test('search with another embedder is refused (API and CLI), naming both; with no recorded embedder it is allowed', async () => {
    const hits = await sparseSearch({ config: config(), embedder: OLD, query: 'porcelain teapot lighthouse' });
    expect(hits[0].id).toBe('1900000000000000001');
    const err = await sparseSearch({ config: config(), embedder: NEW, query: 'teapot' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'EMBEDDER_CHANGED' });
    expect(err.message).toContain(`made by ${OLD_NAME}, but this search uses ${NEW_NAME}`);
    const r = await sparseVector(['search', 'porcelain', 'teapot'], env({ SPARSE_EMBEDDER_INDEX_SPACE: '1000' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`made by ${escape(OLD_NAME)}, but this search uses ${escape(NEW_NAME)}.*\\n.*--reembed`),
    );
    // A table whose vectors were written elsewhere (no recorded embedder, e.g. powermem's own scripts).
    await db.knex(seeds).update({ embedder_fingerprint: null });
    await expect(sparseSearch({ config: config(), embedder: NEW, query: 'teapot' })).resolves.toBeInstanceOf(Array);
  });

  test('a ledger of an older version (no fingerprint columns) is upgraded, idempotently, and gets the embedder recorded', async () => {
    await db.knex.schema.dropTable(seeds);
    await db.knex.raw(
      `CREATE TABLE ${seeds} (name VARCHAR(255) NOT NULL PRIMARY KEY, status VARCHAR(16) NOT NULL, runs INT NOT NULL DEFAULT 0, ` +
        'migrated BIGINT NOT NULL DEFAULT 0, failed BIGINT NOT NULL DEFAULT 0, last_started_at DATETIME NULL, ' +
        'last_finished_at DATETIME NULL, last_error TEXT NULL)',
    );
    await db
      .knex(seeds)
      .insert({ name: '20250601000100_backfill_sparse_vector', status: 'done', runs: 1, migrated: 121 });
    // Search and a refused check read it as it is: nothing recorded, both allowed.
    await expect(sparseSearch({ config: config(), embedder: OLD, query: 'teapot' })).resolves.toBeInstanceOf(Array);
    await db.knex('memories').where('id', '1900000000000000001').update({ sparse_embedding: null });
    const out: string[] = [];
    const r = await runSeeder({
      config: config(),
      embedder: OLD,
      delaySeconds: 0,
      progress: 'none',
      logger: { info() {}, warn() {}, debug: (m) => void out.push(m) },
    });
    expect(r).toMatchObject({ ok: true, migrated: 1 });
    expect(out.join('\n')).toMatch(/records no embedder .* recording local bm25-fnv1a-v2 \(index space 500000\)/);
    expect(await ledger()).toMatchObject([
      {
        embedder_fingerprint: canonicalFingerprint(fingerprintOf(OLD)),
        reembed_to: null,
        reembed_after: null,
        runs: 2,
      },
    ]);
    await addEmbeddingSpaceColumns(db.knex, seeds); // again: nothing to add, no error
    await new SeedLedger(seeds).ensureTable(db.knex);
    const [cols] = await db.knex.raw(
      "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME IN ('embedder_fingerprint','reembed_to','reembed_after')",
      [seeds],
    );
    expect(Number(cols[0].n)).toBe(3);
    // And now it refuses another embedder like any other ledger.
    await expect(runSeeder({ config: config(), embedder: NEW, progress: 'none' })).rejects.toMatchObject({
      code: 'EMBEDDER_CHANGED',
    });
  });

  test('re-embed (CLI): resumable from its checkpoint, a SIGKILL mid-batch loses nothing, no stored vector is ever NULL, the switch comes at the end', async () => {
    const all = (await db.knex('memories').select('id').orderBy('id')).map((r: { id: unknown }) => String(r.id));
    const newEnv = env({ SPARSE_EMBEDDER_INDEX_SPACE: '1000', SPARSE_EMBEDDER_THREADS: '0' });
    // 1. A limited run: 50 rows rewritten, "in progress" with a checkpoint; the recorded embedder is still the old one.
    const first = await umzug(['seed', '--reembed', '--limit', '50', '--batch-size', '20'], newEnv);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      `Re-embedding 121 stored vectors of memories.sparse_embedding from ${OLD_NAME} to ${NEW_NAME}`,
    );
    expect(first.stdout).toMatch(/re-embed is not complete .*search accepts both embedders/);
    expect(await ledger()).toMatchObject([
      {
        embedder_fingerprint: canonicalFingerprint(fingerprintOf(OLD)),
        reembed_to: canonicalFingerprint(fingerprintOf(NEW)),
        reembed_after: all[49],
      },
    ]);
    expect(await nullCount()).toBe(0);
    const report = formatVerifyReport(await verifySparseVector({ config: config(), embedder: NEW }));
    expect(report).toContain(
      `Embedder:    re-embed in progress from ${OLD_NAME} to ${NEW_NAME} (checkpoint: id ${all[49]}); search accepts both, results mix the two until it completes`,
    );
    // Meanwhile search accepts both embedders (results mix the two spaces), and refuses a third.
    await expect(sparseSearch({ config: config(), embedder: OLD, query: 'teapot' })).resolves.toBeInstanceOf(Array);
    await expect(sparseSearch({ config: config(), embedder: NEW, query: 'teapot' })).resolves.toBeInstanceOf(Array);
    await expect(sparseSearch({ config: config(), embedder: qwen(), query: 'teapot' })).rejects.toMatchObject({
      code: 'EMBEDDER_CHANGED',
    });
    // A plain backfill with the old embedder is refused while the re-embed is in progress.
    const plain = await umzug(['seed'], env());
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(
      `A re-embed of memories.sparse_embedding from ${OLD_NAME} to ${NEW_NAME} is in progress`,
    );

    // 2. Held inside a batch's transaction (rows and checkpoint written, not committed): no row that had a vector
    //    is NULL and the committed checkpoint is still the first run's;
    //    then killed there.
    const held = startAt('reembed:before-commit', ['seed', '--reembed', '--batch-size', '20'], newEnv);
    await held.reached;
    expect(await nullCount()).toBe(0);
    expect((await ledger())[0].reembed_after).toBe(all[49]);
    held.child.kill('SIGKILL');
    expect((await held.done).signal).toBe('SIGKILL');
    expect(await nullCount()).toBe(0);
    expect((await ledger())[0].reembed_after).toBe(all[49]); // the killed batch was rolled back with its checkpoint
    expect(await checkTable(db, NEW, 'memories', (id) => all.indexOf(id) >= 50)).toMatchObject({ wrong: [] });

    // 3. The same command resumes after the checkpoint and completes: every row in the new space, the switch recorded.
    const last = await umzug(['seed', '--reembed', '--batch-size', '20'], newEnv);
    expect(last.code).toBe(0);
    expect(last.stdout).toContain(`(resuming after id ${all[49]})`);
    expect(last.stdout).toContain(
      `Re-embed complete: 71 stored vectors rewritten; memories.sparse_embedding is now recorded as ${NEW_NAME}.`,
    );
    expect(await checkTable(db, NEW)).toMatchObject({ wrong: [], nullEligible: 0, embedded: 121 });
    expect(await ledger()).toMatchObject([
      {
        embedder_fingerprint: canonicalFingerprint(fingerprintOf(NEW)),
        reembed_to: null,
        reembed_after: null,
        status: 'done',
      },
    ]);
    // The term statistics count the new vectors: search in the new space finds the teapot first; the old one is refused.
    expect(formatVerifyReport(await verifySparseVector({ config: config(), embedder: NEW }))).toContain(
      `Embedder:    ${NEW_NAME} (recorded for the stored vectors)`,
    );
    const hits = await sparseSearch({ config: config(), embedder: NEW, query: 'porcelain teapot lighthouse' });
    expect(hits[0].id).toBe('1900000000000000001');
    await expect(sparseSearch({ config: config(), embedder: OLD, query: 'teapot' })).rejects.toMatchObject({
      code: 'EMBEDDER_CHANGED',
    });
  });

  test("re-embed never overwrites a value the application wrote after the re-embed's read", async () => {
    const ids = (await db.knex('memories').select('id').orderBy('id').limit(3)).map((r: { id: unknown }) =>
      String(r.id),
    );
    const g = gated(NEW);
    const run = runSeeder({
      config: config(),
      embedder: g.embedder,
      reembed: true,
      batchSize: 20,
      delaySeconds: 0,
      progress: 'none',
    });
    await g.entered; // the first batch is read and being embedded
    await db.knex('memories').where('id', ids[0]).update({ sparse_embedding: '[[7,7]]' }); // the application's value
    await db.knex('memories').where('id', ids[1]).update({ document: 'the text changed meanwhile' });
    const oldOfSecond = (await db.knex('memories').where('id', ids[1]).first('sparse_embedding')).sparse_embedding;
    g.open();
    const r = await run;
    expect(r).toMatchObject({ ok: true, reembed: { complete: true, changed: 2, rewritten: 119 } });
    const rows = await db.knex('memories').whereIn('id', ids).orderBy('id').select('id', 'sparse_embedding');
    expect(storedJson(rows[0].sparse_embedding)).toBe('[[7,7]]');
    expect(storedJson(rows[1].sparse_embedding)).toBe(storedJson(oldOfSecond)); // not the embedding of its old text
    expect(await checkTable(db, NEW, 'memories', (id) => id === ids[0] || id === ids[1])).toMatchObject({ wrong: [] });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
