import { resolveConfig, type SparseVectorConfig } from '../../src/config/config';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import type { SparseEmbedder } from '../../src/embedders/types';
import { createSparseMigrator } from '../../src/migrator/umzug';
import { parsePortableJson, toPortableJson } from '../../src/sparse/sparse-vector';
import { checkStoredVectors, type TableCheck } from '../../testing/table-check';
import { createMemoryLogger, silentLogger, type Logger } from '../../src/util/logger';
import { Writable } from 'node:stream';
import type { TestDatabase } from './db';
import { OutputWatch } from './output-watch';

export function portableConfig(db: TestDatabase, extra: Parameters<typeof resolveConfig>[0] = {}): SparseVectorConfig {
  return resolveConfig({ databaseUrl: db.url, storage: 'json', ...extra }, {});
}

export async function upgrade(db: TestDatabase, table = 'memories'): Promise<void> {
  const m = createSparseMigrator({ config: portableConfig(db, { table }), logger: silentLogger });
  try {
    await m.umzug.up();
  } finally {
    await m.close();
  }
}

export type { TableCheck } from '../../testing/table-check';

/** Compare every stored vector with the embedding of the row's current text (see checkStoredVectors). */
export function checkTable(
  db: TestDatabase,
  embedder?: SparseEmbedder,
  table = 'memories',
  skip?: (id: string) => boolean,
): Promise<TableCheck> {
  return checkStoredVectors(db.knex, table, embedder, skip);
}

/** An embedder that fails for texts containing `marker` (to test failure isolation). */
export function failingFor(marker: string, inner: SparseEmbedder = new LocalSparseEmbedder()): SparseEmbedder {
  return {
    provider: 'test-failing',
    model: 'local+faults',
    maxBatchSize: inner.maxBatchSize,
    maxIndex: inner.maxIndex,
    fingerprint: inner.fingerprint,
    async embedDocuments(texts) {
      const bad = texts.find((t) => t.includes(marker));
      if (bad !== undefined) throw new Error(`refused a text containing ${marker}`);
      return inner.embedDocuments(texts);
    },
    embedQuery: (t) => inner.embedQuery(t),
  };
}

/**
 * An embedder that takes `ms` per call, or `ms(texts)` (e.g. a time per text), to keep a run going while
 * something else happens.
 */
export function slowed(
  ms: number | ((texts: readonly string[]) => number),
  inner: SparseEmbedder = new LocalSparseEmbedder(),
): SparseEmbedder {
  return {
    provider: inner.provider,
    model: inner.model,
    maxBatchSize: inner.maxBatchSize,
    maxIndex: inner.maxIndex,
    fingerprint: inner.fingerprint,
    async embedDocuments(texts) {
      await new Promise((r) => setTimeout(r, typeof ms === 'number' ? ms : ms(texts)));
      return inner.embedDocuments(texts);
    },
    embedQuery: (t) => inner.embedQuery(t),
  };
}

/** A writable stream that keeps what is written (optionally claiming to be a terminal). */
export function captureStream(isTTY = false): NodeJS.WritableStream & { text: string; isTTY: boolean } {
  const s = new Writable({
    write(chunk, _enc, cb) {
      (s as unknown as { text: string }).text += String(chunk);
      cb();
    },
  }) as unknown as NodeJS.WritableStream & { text: string; isTTY: boolean };
  s.text = '';
  s.isTTY = isTTY;
  return s;
}

/** The events of JSON-lines output (`--json`, progress 'json'): one parsed object per line. */
// any[]: the events have several shapes, as JSON.parse gives them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function jsonLines(text: string): any[] {
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

/** A stored portable vector (a JSON string, or already parsed by the driver) in its canonical text form. */
export function storedJson(value: unknown): string {
  return toPortableJson(parsePortableJson(value));
}

/**
 * An embedder that holds every call at a gate the test opens: `entered` resolves when the first call has
 * started (the run is then at a known point: its lock taken, a batch read and being embedded), `open()`
 * lets every held and later call through.
 */
export function gated(inner: SparseEmbedder = new LocalSparseEmbedder()): {
  embedder: SparseEmbedder;
  entered: Promise<void>;
  open(): void;
  calls: number;
} {
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((r) => (enter = r));
  const gate = new Promise<void>((r) => (release = r));
  const g = {
    calls: 0,
    entered,
    open: () => release(),
    embedder: {
      provider: inner.provider,
      model: inner.model,
      maxBatchSize: inner.maxBatchSize,
      maxIndex: inner.maxIndex,
      fingerprint: inner.fingerprint,
      async embedDocuments(texts: readonly string[]) {
        g.calls++;
        enter();
        await gate;
        return inner.embedDocuments(texts);
      },
      embedQuery: (t: string) => inner.embedQuery(t),
    } as SparseEmbedder,
  };
  return g;
}

/**
 * Wait until `check()` holds: a state of the server or the process, polled (never a fixed sleep that
 * decides an assertion). The test's own timeout bounds the wait.
 */
export async function waitUntil(check: () => Promise<boolean> | boolean, everyMs = 20): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, everyMs));
}

/** Every vector back to NULL and no seeds ledger: the state a test that starts from scratch expects. */
export async function resetBackfill(db: TestDatabase, table = 'memories'): Promise<void> {
  await db.knex(table).update({ sparse_embedding: null });
  await db.knex.schema.dropTableIfExists('sparse_vector_seeds');
}

/**
 * The table as before any upgrade: no sparse column or index, no ledger of ours (migrations, knex's lock
 * table, seeds). For test files whose tests each start from the beginning (they run in any order).
 */
export async function resetSchema(db: TestDatabase, table = 'memories'): Promise<void> {
  const [ledgers] = await db.knex.raw(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'sparse\\_vector\\_%'",
  );
  for (const { t } of ledgers as Array<{ t: string }>) await db.knex.schema.dropTable(t);
  const [index] = await db.knex.raw(
    'SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?',
    [table, 'sparse_embedding_idx'],
  );
  if (index.length) await db.knex.raw(`DROP INDEX sparse_embedding_idx ON \`${table}\``);
  if (await db.knex.schema.hasColumn(table, 'sparse_embedding'))
    await db.knex.schema.alterTable(table, (t) => t.dropColumn('sparse_embedding'));
}

/** Upgraded and fully backfilled (the seeder recorded 'done'), in process. */
export async function upgradeAndBackfill(db: TestDatabase, table = 'memories'): Promise<void> {
  await upgrade(db, table);
  const { runSeeder } = await import('../../src/backfill/seeder');
  const s = await runSeeder({ config: portableConfig(db, { table }), delaySeconds: 0, progress: 'none', rerun: true });
  if (!s.ok)
    throw new Error(`the backfill did not complete: ${JSON.stringify({ ...s, failures: s.failures.slice(0, 3) })}`);
}

/** The names in a migrations ledger (none when the ledger does not exist). */
export async function ledgerNames(db: TestDatabase, ledger = 'sparse_vector_migrations'): Promise<string[]> {
  if (!(await db.knex.schema.hasTable(ledger))) return [];
  return (await db.knex(ledger).select('name').orderBy('name')).map((r: { name: string }) => r.name);
}

/** A memory logger whose lines can be awaited (see OutputWatch): `printed(pattern, ended)`. */
export function watchedLogger(): Logger & Pick<OutputWatch, 'printed'> {
  const inner = createMemoryLogger();
  const watch = new OutputWatch();
  const told = () => watch.add(`${inner.lines[inner.lines.length - 1]}\n`);
  return {
    info: (m) => (inner.info(m), told()),
    warn: (m) => (inner.warn(m), told()),
    debug: () => undefined,
    printed: (pattern, ended) => watch.printed(pattern, ended),
  };
}
