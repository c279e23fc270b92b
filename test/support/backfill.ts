import { resolveConfig, type SparseVectorConfig } from '../../src/config/config';
import { LocalSparseEmbedder } from '../../src/embedders/local';
import type { SparseEmbedder } from '../../src/embedders/types';
import { createSparseMigrator } from '../../src/migrator/umzug';
import { parsePortableJson, toPortableJson } from '../../src/sparse/sparse-vector';
import { checkStoredVectors, type TableCheck } from '../../src/testing/table-check';
import { silentLogger } from '../../src/util/logger';
import { Writable } from 'node:stream';
import type { TestDatabase } from './db';

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

export type { TableCheck } from '../../src/testing/table-check';

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
