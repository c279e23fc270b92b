/**
 * Crash soak: `npm run soak [-- --kills 100] [-- --rows 5000]`.
 *
 * Kills the real CLI (`node bin/umzug.js up|down|seed`) with SIGKILL at random moments, many times, and
 * after every kill runs the same command again to completion. After each round it checks the invariants:
 *
 * - the command run again exits 0;
 * - schema and ledger agree (the column exists exactly when the migration is in the ledger);
 * - the migration lock is free;
 * - every stored vector is the embedding of its own row's current text, and every value the "application"
 *   wrote during the run is still there (never overwritten);
 * - after a completed seed, no eligible row is NULL.
 *
 * Uses SPARSE_SOAK_DATABASE_URL, else the project's private MariaDB (scripts/db.sh). Exit 0 when every round
 * held, 1 on the first violation (with what was seen). Not part of `npm test` (it takes minutes).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Knex } from 'knex';
import { parseDatabaseUrl } from '../src/config/connection-config';
import { LocalSparseEmbedder } from '../src/embedders/local';
import { startLocalServer } from './local-server';
import { scratchDatabase } from '../testing/scratch-database';
import { checkStoredVectors } from '../testing/table-check';
import { createMemoriesTable, insertSampleMemories } from '../testing/sample-memories';

const ROOT = path.resolve(__dirname, '..', '..');
const UMZUG = path.join(ROOT, 'bin', 'umzug.js');
const MIGRATION = '20250601000000_add_sparse_vector';
const APP_VECTOR = '[[499999,7]]';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`--${name} must be a positive whole number (got ${process.argv[i + 1]})`);
  return v;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv, killAfterMs?: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [UMZUG, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

async function check(
  knex: Knex,
  database: string,
  appRows: Set<string>,
  embedder: LocalSparseEmbedder,
): Promise<{ problems: string[]; nullEligible: number; column: boolean }> {
  const problems: string[] = [];
  const [cols] = await knex.raw(
    "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'memories' AND COLUMN_NAME = 'sparse_embedding'",
  );
  const column = Number(cols[0].n) === 1;
  const ledger = (await knex.schema.hasTable('sparse_vector_migrations'))
    ? await knex('sparse_vector_migrations').pluck('name')
    : [];
  if (column !== ledger.includes(MIGRATION))
    problems.push(`schema and ledger disagree: column ${column}, ledger ${JSON.stringify(ledger)}`);
  const [lock] = await knex.raw('SELECT IS_FREE_LOCK(?) AS free', [`sparse-vector:migrate:${database}.memories`]);
  if (Number(lock[0].free) !== 1) problems.push('the migration lock is still held');
  let nullEligible = 0;
  if (column) {
    const table = await checkStoredVectors(knex, 'memories', embedder, (id) => appRows.has(id));
    for (const id of table.wrong) problems.push(`row ${id} holds a vector that is not the embedding of its text`);
    nullEligible = table.nullEligible;
    const app: Array<{ id: string; sparse_embedding: unknown }> = appRows.size
      ? await knex('memories')
          .select('id', 'sparse_embedding')
          .whereIn('id', [...appRows])
      : [];
    for (const r of app) {
      const v = typeof r.sparse_embedding === 'string' ? r.sparse_embedding : JSON.stringify(r.sparse_embedding);
      if (JSON.stringify(JSON.parse(v ?? 'null')) !== APP_VECTOR)
        problems.push(`the application's value of row ${r.id} was overwritten (${v})`);
    }
  }
  return { problems, nullEligible, column };
}

async function main(): Promise<number> {
  const kills = flag('kills', 100);
  const rows = flag('rows', 5000);
  const baseUrl = process.env.SPARSE_SOAK_DATABASE_URL ?? startLocalServer();
  const { url, knex } = await scratchDatabase(baseUrl, 'svm_soak', 2);
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url, SPARSE_VECTOR_STORAGE: 'json' };
  const embedder = new LocalSparseEmbedder();
  const appRows = new Set<string>();
  const database = parseDatabaseUrl(url).database;
  const counts = { up: 0, down: 0, seed: 0, killedMidRun: 0 };
  try {
    await createMemoriesTable(knex);
    await insertSampleMemories(knex, { count: rows });
    console.log(`soak: ${kills} kills on ${rows} rows (database svm_soak)`);
    for (let round = 1; round <= kills; round++) {
      const state = await check(knex, database, appRows, embedder);
      // Mostly backfill kills; every tenth round a downgrade (then an upgrade the round after).
      let args: string[];
      if (!state.column) args = ['up'];
      else if (round % 10 === 5) args = ['down'];
      else args = ['seed', '--rerun', '--workers', '3', '--batch-size', '25', '--delay', '0.02', '--progress', 'none'];
      const command = args[0] as 'up' | 'down' | 'seed';
      counts[command]++;
      if (command === 'seed') {
        // Keep work for the kill to land in: half of our vectors go back to NULL.
        await knex('memories')
          .whereNotNull('sparse_embedding')
          .whereNotIn('id', [...appRows])
          .whereRaw('RAND() < 0.5')
          .update({ sparse_embedding: null });
      }
      // The CLI needs ~0.4 s to start; a seed round then works for about a second, a schema change much less.
      const killAfter =
        command === 'seed' ? 250 + Math.floor(Math.random() * 1000) : 250 + Math.floor(Math.random() * 400);
      const running = runCli(args, env, killAfter);
      if (command === 'seed') {
        // The application writes too: a value of its own into two rows still NULL.
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * killAfter)));
        const free: string[] = await knex('memories')
          .whereNull('sparse_embedding')
          .whereRaw("document <> ''")
          .orderByRaw('RAND()')
          .limit(2)
          .pluck('id');
        for (const id of free)
          if (
            await knex('memories').where({ id }).whereNull('sparse_embedding').update({ sparse_embedding: APP_VECTOR })
          )
            appRows.add(String(id));
      }
      const killed = await running;
      if (killed.signal === 'SIGKILL') counts.killedMidRun++;
      else if (killed.code !== 0) {
        console.error(`round ${round}: ${args.join(' ')} failed before the kill:\n${killed.output}`);
        return 1;
      }
      const again = await runCli(args, env);
      if (command === 'down') appRows.clear(); // the downgrade drops every vector, the application's too
      const after = await check(knex, database, appRows, embedder);
      if (again.code !== 0) after.problems.push(`the same command run again exited ${again.code}:\n${again.output}`);
      if (command === 'seed' && after.nullEligible > 0)
        after.problems.push(`${after.nullEligible} eligible rows still NULL after the re-run`);
      if (after.problems.length) {
        console.error(
          `round ${round} (${args.join(' ')}, killed after ${killAfter} ms):\n  ${after.problems.slice(0, 10).join('\n  ')}`,
        );
        return 1;
      }
      if (round % 10 === 0 || round === kills)
        console.log(
          `round ${round}/${kills}: ok (up ${counts.up}, down ${counts.down}, seed ${counts.seed}; ${counts.killedMidRun} killed mid-run; ${appRows.size} application values kept)`,
        );
    }
    console.log(`soak passed: ${kills} rounds, ${counts.killedMidRun} processes killed mid-run, every invariant held`);
    return 0;
  } finally {
    await knex.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
