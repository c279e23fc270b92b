/**
 * `npm run eval`: retrieval quality of the default (local) embedder through the product's own path, on
 * the local MariaDB (portable mode): each set's documents become rows of a memories table, the schema
 * upgrade and the backfill run as a user would run them, and every query goes through sparseSearch
 * (top 10). Reports top-1 and MRR@10 per set, beside classic BM25 with IDF on the same sets (the anchor,
 * bench/retrieval-metrics.ts) and the same embedder's scores computed in memory (a cross-check of the
 * database path). Not timed. Writes bench/eval-results.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBackfill } from '../src/backfill';
import { resolveConfig } from '../src/config/config';
import { LocalSparseEmbedder } from '../src/embedders/local';
import { startLocalServer } from '../scripts/local-server';
import { migrateToLatest } from '../src/migrator/migrate-on-boot';
import { createMemoriesTable } from '../testing/sample-memories';
import { sparseSearch } from '../src/search/sparse-search';
import { sparseDot } from '../src/sparse/sparse-vector';
import { idf } from '../src/stats/term-stats';
import { scratchDatabase } from '../testing/scratch-database';
import { silentLogger } from '../src/util/logger';
import { classicBm25, rankOf, rankOfScored, scoreRanks, type RetrievalScore } from './retrieval-metrics';
import { retrievalSets, type RetrievalSet } from './retrieval-sets';

const ROOT = path.resolve(__dirname, '..', '..');
const say = (s: string) => process.stdout.write(s + '\n');

/**
 * The local embedder's ranking computed in memory (no database): the same vectors, the same inner product,
 * the query weighted by IDF from the documents' vectors as sparseSearch does with the term statistics.
 */
export function inMemory(set: RetrievalSet, embedder = new LocalSparseEmbedder({ threads: 0 })): RetrievalScore {
  const docs = set.documents.map((d) => ({ id: String(d.id), v: embedder.embed(d.text, 'document') }));
  const df = new Map<number, number>();
  for (const d of docs) for (const i of d.v.indices) df.set(i, (df.get(i) ?? 0) + 1);
  const ranks = set.queries.map((q) => {
    const raw = embedder.embed(q.query, 'query');
    const qv = {
      indices: raw.indices,
      values: Float32Array.from(raw.values, (w, k) => w * idf(docs.length, df.get(raw.indices[k]) ?? 0)),
    };
    return rankOfScored(
      docs.map((d) => ({ id: d.id, s: sparseDot(qv, d.v) })),
      q.relevantId,
    );
  });
  return scoreRanks(ranks);
}

/** The set through a table, the upgrade, the backfill and sparseSearch. */
async function throughDatabase(baseUrl: string, set: RetrievalSet): Promise<RetrievalScore> {
  const { url, knex, drop } = await scratchDatabase(baseUrl, `svm_eval_${set.name.replace(/\W/g, '_')}`);
  try {
    await createMemoriesTable(knex);
    for (let i = 0; i < set.documents.length; i += 500) {
      await knex('memories').insert(set.documents.slice(i, i + 500).map((d) => ({ id: d.id, document: d.text })));
    }
    const up = await migrateToLatest({ databaseUrl: url, storage: 'json', logger: silentLogger });
    if (!up.ok) throw up.error ?? new Error('the upgrade failed');
    const config = resolveConfig({ databaseUrl: url, storage: 'json', table: 'memories' }, {});
    const summary = await runBackfill({ config, delaySeconds: 0, progress: 'none' });
    if (!summary.ok || summary.migrated !== set.documents.length)
      throw new Error(`backfill of ${set.name} embedded ${summary.migrated} of ${set.documents.length} rows`);
    const embedder = new LocalSparseEmbedder({ threads: 0 });
    const ranks: Array<number | undefined> = [];
    for (const q of set.queries) {
      const hits = await sparseSearch({ config, query: q.query, limit: 10, knex, embedder, logger: silentLogger });
      ranks.push(
        rankOf(
          hits.map((h) => h.id),
          q.relevantId,
        ),
      );
    }
    return scoreRanks(ranks);
  } finally {
    await drop();
  }
}

const pct = (s: RetrievalScore) => `${s.top1}/${s.queries} = ${((100 * s.top1) / s.queries).toFixed(1)}%`;

async function main(): Promise<void> {
  const baseUrl = process.env.SPARSE_BENCH_DATABASE_URL ?? startLocalServer();
  const embedder = new LocalSparseEmbedder({ threads: 0 });
  const results: Record<string, unknown> = {};
  const lines = [
    `local embedder ${embedder.model}`,
    '',
    '| set | documents | queries | top-1, sparseSearch | MRR@10, sparseSearch | top-1, classic BM25 with IDF | MRR@10, classic BM25 |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const set of retrievalSets()) {
    const db = await throughDatabase(baseUrl, set);
    const memory = inMemory(set, embedder);
    const anchor = classicBm25(set);
    if (memory.top1 !== db.top1)
      say(
        `note: ${set.name}: in memory ${memory.top1} top-1, through the database ${db.top1} (ties ordered differently)`,
      );
    lines.push(
      `| ${set.name} | ${set.documents.length} | ${set.queries.length} | ${pct(db)} | ${db.mrr10.toFixed(3)} | ${pct(anchor)} | ${anchor.mrr10.toFixed(3)} |`,
    );
    results[set.name] = {
      description: set.description,
      documents: set.documents.length,
      sparseSearch: db,
      inMemory: memory,
      classicBm25: anchor,
    };
  }
  const out = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpus: os.cpus().length,
    model: embedder.model,
    results,
  };
  fs.writeFileSync(path.join(ROOT, 'bench', 'eval-results.json'), JSON.stringify(out, null, 2) + '\n');
  say(lines.join('\n'));
  say('\nwrote bench/eval-results.json');
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
