/**
 * `npm run demo` — the main job on the local default server:
 *  1. use DATABASE_URL / OCEANBASE_* when configured, otherwise start the project's private MariaDB
 *     (portable JSON storage, since MariaDB has no native sparse vectors);
 *  2. create a sample `memories` table with a few hundred rows if there is none;
 *  3. run the schema upgrade (the same migration Umzug and knex run, under the same lock and ledger);
 *  4. backfill the embeddings with the seeder (local embedder unless configured otherwise);
 *  5. search, and show the ledgers.
 */
import { resolveConfig } from '../src/config/config';
import { describeConnection } from '../src/config/connection-config';
import { loadDotenv } from '../src/config/load-env';
import { createKnex } from '../src/db/knex';
import { describeServer, detectServer } from '../src/db/server-info';
import { migrateToLatest } from '../src/migrator/migrate-on-boot';
import { KnexLedgerStorage } from '../src/migrator/ledger';
import { startLocalServer } from '../scripts/local-server';
import { discoverTableOrDefault } from '../src/config/table-discovery';
import { createMemoriesTable, insertSampleMemories } from '../testing/sample-memories';
import { tableExists } from '../src/schema/inspect';
import { createConsoleLogger } from '../src/util/logger';
import { formatError } from '../src/cli/errors';
import { runSeeder } from '../src/backfill';
import { sparseSearch } from '../src/search/sparse-search';
import { SeedLedger } from '../src/backfill/seed-ledger';

async function main(): Promise<number> {
  loadDotenv();
  const line = '='.repeat(70);
  if (!process.env.DATABASE_URL && !process.env.OCEANBASE_HOST) {
    console.log('No DATABASE_URL or OCEANBASE_HOST configured: using the local MariaDB (npm run db:start).');
    process.env.DATABASE_URL = startLocalServer();
    process.env.SPARSE_VECTOR_STORAGE ||= 'json';
  }
  const knex = createKnex(resolveConfig().connection!);
  try {
    // The memories table as powermem finds it (power_mem or memories); power_mem when neither exists yet.
    const config = await discoverTableOrDefault(knex, resolveConfig());
    const server = await detectServer(knex);
    console.log(`${line}\nDatabase: ${describeConnection(config.connection!)}\nServer:   ${describeServer(server)}`);
    console.log(
      `Storage:  ${config.storage === 'json' ? 'portable JSON (SPARSE_VECTOR_STORAGE=json)' : 'native SPARSEVECTOR'}\n${line}`,
    );

    if (!(await tableExists(knex, config.table))) {
      await createMemoriesTable(knex, config.table);
      const n = await insertSampleMemories(knex, { table: config.table, count: 300 });
      console.log(`Created sample table '${config.table}' with ${n} memories.`);
    } else {
      const [rows] = await knex.raw(`SELECT COUNT(*) AS n FROM \`${config.table}\``);
      console.log(`Table '${config.table}' exists with ${rows[0].n} rows.`);
    }

    console.log(`\n${line}\nSchema upgrade\n${line}`);
    const result = await migrateToLatest({ logger: createConsoleLogger() });
    if (!result.ok) {
      console.error(formatError(result.error));
      return 1;
    }
    console.log(`\nApplied now: ${result.applied.join(', ') || '(nothing: already up to date)'}`);

    console.log(`\n${line}\nBackfill (seeder 20250601000100_backfill_sparse_vector)\n${line}`);
    const backfill = await runSeeder({ config, workers: 3, delaySeconds: 0, rerun: true, knex });
    if (!backfill.ok) {
      console.error(formatError(backfill.error ?? new Error(`${backfill.failed} rows failed`)));
      return 1;
    }

    const query = 'who is allergic to peanuts?';
    console.log(`\n${line}\nSparse search: "${query}"\n${line}`);
    for (const [i, hit] of (await sparseSearch({ config, query, limit: 5, knex })).entries()) {
      console.log(`  ${i + 1}. [${hit.score.toFixed(3)}] ${hit.text.slice(0, 70)}`);
    }

    console.log(`\n${line}\nLedger (${config.migrationsTable})\n${line}`);
    for (const r of await new KnexLedgerStorage(config.migrationsTable).rows(knex)) {
      console.log(`  batch ${r.batch}  ${r.name}  ${r.migration_time}`);
    }
    const [cols] = await knex.raw(
      'SELECT COLUMN_NAME AS c, COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
      [config.table, config.sparseColumn],
    );
    console.log(`\nColumn ${config.table}.${cols[0]?.c ?? config.sparseColumn}: ${cols[0]?.t ?? 'missing'}`);
    for (const r of await new SeedLedger(config.seedsTable).all(knex)) {
      console.log(
        `Seeds ledger (${config.seedsTable}): ${r.name} ${r.status}, runs ${r.runs}, last run embedded ${r.migrated}, failed ${r.failed}`,
      );
    }
    console.log(
      '\nDone. Try: npx sparse-vector verify   (with DATABASE_URL=$(bash scripts/db.sh url) SPARSE_VECTOR_STORAGE=json)',
    );
    return 0;
  } finally {
    await knex.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(formatError(err));
    process.exit(1);
  },
);
