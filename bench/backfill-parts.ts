/**
 * `node dist/bench/backfill-parts.js [rows] [mix]`: the server CPU per row of each part of the backfill's
 * work, measured alone on one connection (from /proc of the private server, unaffected by other load):
 * the keyset reads (with and without MD5 and the non-empty-text REGEXP), the guarded write (its guard's
 * variants, a prepared statement, a CASE form; with the Node CPU of the text and binary protocols), the
 * term statistics' upsert per batch, and the full scans (start check, count). Needs the private server.
 * Printed only; the figures go into docs/benchmarks.md by hand.
 */
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Knex } from 'knex';
import { hasText } from '../src/backfill/queries';
import { LocalSparseEmbedder } from '../src/embedders/local';
import { migrateToLatest } from '../src/migrator/migrate-on-boot';
import { DOCUMENT_COUNT_KEY, upsertCounts } from '../src/stats/term-stats';
import { toPortableJson } from '../src/sparse/sparse-vector';
import { silentLogger } from '../src/util/logger';
import { createMemoriesTable, insertSampleMemories, type TextMix } from '../testing/sample-memories';
import { scratchDatabase } from '../testing/scratch-database';
import { serverCpuReader } from './server-cpu';

const ROOT = path.resolve(__dirname, '..', '..');
const N = Number(process.argv[2] ?? 30000);
const MIX = (process.argv[3] ?? 'bench') as TextMix;
const BATCH = 500;
const REPEATS = 3;
const say = (s: string) => process.stdout.write(s + '\n');

interface Staged {
  id: string;
  text: string;
  value: string;
  indices: Uint32Array;
}

async function serverUs(cpu: () => number, rows: number, fn: () => Promise<unknown>): Promise<number> {
  const c0 = cpu();
  await fn();
  return ((cpu() - c0) * 1e6) / rows;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function readAll(knex: Knex, select: string, where: string): Promise<number> {
  let last: string | undefined;
  let n = 0;
  for (;;) {
    const after = last === undefined ? '' : ' AND id > CAST(? AS SIGNED)';
    const [rows] = await knex.raw(
      `SELECT id, ${select} FROM memories WHERE ${where}${after} ORDER BY id LIMIT ${BATCH}`,
      last === undefined ? [] : [last],
    );
    if (!rows.length) return n;
    n += rows.length;
    last = String(rows[rows.length - 1].id);
  }
}

const GUARDS: Record<string, { sql: string; key: (s: Staged) => string }> = {
  'MD5(text) = h': { sql: 'MD5(m.document) = x.h', key: (s) => md5(s.text) },
  'IS NULL only': { sql: '1 = 1', key: () => '' },
  'CRC32 + CHAR_LENGTH': {
    sql: "CONCAT(CRC32(m.document), ':', CHAR_LENGTH(m.document)) = x.h",
    key: (s) => `${crc32(s.text)}:${[...s.text].length}`,
  },
  'text = ? (BINARY)': { sql: 'm.document = BINARY x.h', key: (s) => s.text },
};

const md5 = (t: string) => createHash('md5').update(t, 'utf8').digest('hex');
const crc32 = (t: string) => (zlib as unknown as { crc32: (b: Buffer) => number }).crc32(Buffer.from(t, 'utf8'));

async function writeAll(knex: Knex, staged: Staged[], guard: string, stats: boolean, form = 'union'): Promise<number> {
  const g = GUARDS[guard];
  let written = 0;
  for (let i = 0; i < staged.length; i += BATCH) {
    const chunk = staged.slice(i, i + BATCH);
    let sql: string;
    let bindings: string[];
    if (form === 'case') {
      const whens = chunk.map(() => 'WHEN CAST(? AS SIGNED) THEN ?').join(' ');
      sql =
        `UPDATE memories SET sparse_embedding = CASE id ${whens} END ` +
        `WHERE id IN (${chunk.map(() => 'CAST(? AS SIGNED)').join(', ')}) AND sparse_embedding IS NULL AND ` +
        `MD5(document) = CASE id ${whens} END`;
      bindings = [
        ...chunk.flatMap((s) => [s.id, s.value]),
        ...chunk.map((s) => s.id),
        ...chunk.flatMap((s) => [s.id, md5(s.text)]),
      ];
    } else {
      const rows = chunk
        .map((_, k) => (k === 0 ? 'SELECT CAST(? AS SIGNED) AS id, ? AS h, ? AS v' : 'SELECT CAST(? AS SIGNED), ?, ?'))
        .join(' UNION ALL ');
      sql =
        `UPDATE memories AS m JOIN (${rows}) AS x ON m.id = x.id SET m.sparse_embedding = x.v ` +
        `WHERE m.sparse_embedding IS NULL AND ${g.sql}`;
      bindings = chunk.flatMap((s) => [s.id, g.key(s), s.value]);
    }
    if (form === 'execute') {
      // mysql2's prepared statements (binary protocol) on a connection of knex's pool.
      const client = knex.client as {
        acquireConnection(): Promise<{
          execute(sql: string, values: unknown[], cb: (err: Error | null, out: { affectedRows: number }) => void): void;
        }>;
        releaseConnection(c: unknown): Promise<void>;
      };
      const conn = await client.acquireConnection();
      try {
        const r = await new Promise<{ affectedRows: number }>((res, rej) =>
          conn.execute(sql, bindings, (err, out) => (err ? rej(err) : res(out))),
        );
        written += Number(r.affectedRows);
      } finally {
        await client.releaseConnection(conn);
      }
      continue;
    }
    if (!stats) {
      const [r] = await knex.raw(sql, bindings);
      written += Number(r.affectedRows);
      continue;
    }
    await knex.transaction(async (trx) => {
      const [r] = await trx.raw(sql, bindings);
      written += Number(r.affectedRows);
      const df = new Map<number, number>();
      for (const s of chunk) for (const t of s.indices) df.set(t, (df.get(t) ?? 0) + 1);
      await upsertCounts(trx, 'bench_stats', [
        [DOCUMENT_COUNT_KEY, chunk.length],
        ...[...df].sort((a, b) => a[0] - b[0]),
      ]);
    });
  }
  if (written !== staged.length) throw new Error(`${guard}: wrote ${written} of ${staged.length}`);
  return written;
}

async function main(): Promise<void> {
  const cpu = serverCpuReader(ROOT);
  if (!cpu) throw new Error('needs the private server (scripts/db.sh start)');
  const base = execSync('bash scripts/db.sh url', { cwd: ROOT }).toString().trim();
  const { url, knex, drop } = await scratchDatabase(base, `svm_bench_parts_${MIX}`);
  try {
    await createMemoriesTable(knex);
    await insertSampleMemories(knex, { count: N, chunk: 2000, mix: MIX });
    const up = await migrateToLatest({ databaseUrl: url, storage: 'json', logger: silentLogger });
    if (!up.ok) throw up.error ?? new Error('upgrade failed');
    await knex.raw('CREATE TABLE bench_stats (term BIGINT NOT NULL PRIMARY KEY, df BIGINT NOT NULL)');
    const emb = new LocalSparseEmbedder();
    const [all] = await knex.raw(`SELECT id, document FROM memories WHERE ${hasText('document')} ORDER BY id`);
    const staged: Staged[] = all.map((r: { id: string | number; document: string }) => {
      const v = emb.embed(r.document, 'document');
      return { id: String(r.id), text: r.document, value: toPortableJson(v), indices: v.indices };
    });
    const rows = staged.length;
    await knex.raw('CREATE TABLE bench_staging (id BIGINT NOT NULL PRIMARY KEY, v LONGTEXT NOT NULL)');
    for (let i = 0; i < rows; i += 2000)
      await knex('bench_staging').insert(staged.slice(i, i + 2000).map((r) => ({ id: r.id, v: r.value })));
    const out = new Map<string, number[]>();
    const note = (k: string, us: number) => out.set(k, [...(out.get(k) ?? []), us]);
    for (let r = 0; r <= REPEATS; r++) {
      const keep = r > 0 ? note : () => undefined;
      await knex.raw('UPDATE memories SET sparse_embedding = NULL');
      const nullText = `sparse_embedding IS NULL AND ${hasText('document')}`;
      keep(
        'read: text, MD5, REGEXP (today)',
        await serverUs(cpu, rows, () => readAll(knex, 'document, MD5(document) AS h', nullText)),
      );
      keep('read: text, REGEXP', await serverUs(cpu, rows, () => readAll(knex, 'document', nullText)));
      keep(
        'read: text, IS NOT NULL',
        await serverUs(cpu, rows, () => readAll(knex, 'document', 'sparse_embedding IS NULL AND document IS NOT NULL')),
      );
      keep(
        'scan: COUNT(*) stored (start check)',
        await serverUs(cpu, rows, () => knex.raw('SELECT COUNT(*) FROM memories WHERE sparse_embedding IS NOT NULL')),
      );
      keep(
        'scan: countNullRows',
        await serverUs(cpu, rows, () =>
          knex.raw(`SELECT SUM(${hasText('document')}) FROM memories WHERE sparse_embedding IS NULL`),
        ),
      );
      for (const guard of Object.keys(GUARDS)) {
        await knex.raw('UPDATE memories SET sparse_embedding = NULL');
        keep(`write: ${guard}`, await serverUs(cpu, rows, () => writeAll(knex, staged, guard, false)));
      }
      await knex.raw('UPDATE memories SET sparse_embedding = NULL');
      {
        const n0 = process.cpuUsage();
        keep(
          'write: MD5 guard, prepared (execute)',
          await serverUs(cpu, rows, () => writeAll(knex, staged, 'MD5(text) = h', false, 'execute')),
        );
        const n = process.cpuUsage(n0);
        keep('  (Node CPU per row of the prepared write)', (n.user + n.system) / rows);
        await knex.raw('UPDATE memories SET sparse_embedding = NULL');
        const m0 = process.cpuUsage();
        keep(
          'write: MD5 guard, query (again)',
          await serverUs(cpu, rows, () => writeAll(knex, staged, 'MD5(text) = h', false)),
        );
        const m = process.cpuUsage(m0);
        keep('  (Node CPU per row of the text-protocol write)', (m.user + m.system) / rows);
        await knex.raw('UPDATE memories SET sparse_embedding = NULL');
      }
      keep(
        'write: CASE id WHEN … (MD5 guard)',
        await serverUs(cpu, rows, () => writeAll(knex, staged, 'MD5(text) = h', false, 'case')),
      );
      await knex.raw('UPDATE memories SET sparse_embedding = NULL');
      keep(
        'write: one UPDATE JOIN staging (ceiling)',
        await serverUs(cpu, rows, () =>
          knex.raw('UPDATE memories m JOIN bench_staging s ON m.id = s.id SET m.sparse_embedding = s.v'),
        ),
      );
      await knex.raw('UPDATE memories SET sparse_embedding = NULL');
      await knex.raw('DELETE FROM bench_stats');
      keep(
        'write: MD5 guard + term stats in its transaction',
        await serverUs(cpu, rows, () => writeAll(knex, staged, 'MD5(text) = h', true)),
      );
      keep(
        'scan: COUNT(*) stored, all written',
        await serverUs(cpu, rows, () => knex.raw('SELECT COUNT(*) FROM memories WHERE sparse_embedding IS NOT NULL')),
      );
      keep(
        'read: sweep over written table',
        await serverUs(cpu, rows, () => readAll(knex, 'document, MD5(document) AS h', nullText)),
      );
    }
    say(`${rows} rows, ${MIX} mix, batches of ${BATCH}, ${REPEATS} rounds (median, min–max), server CPU µs per row:`);
    for (const [k, xs] of out)
      say(
        `  ${k.padEnd(52)} ${median(xs).toFixed(1).padStart(7)}  (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`,
      );
  } finally {
    await drop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(String(err?.stack ?? err) + '\n');
    process.exit(1);
  },
);
