/**
 * `npm run demo` — the main job on the local default server:
 *  1. use DATABASE_URL / OCEANBASE_* when configured, otherwise start the project's private MariaDB
 *     (portable JSON storage, since MariaDB has no native sparse vectors);
 *  2. create a sample `memories` table with a few hundred rows if there is none;
 *  3. run the schema upgrade (the same migration Umzug and knex run, under the same lock and ledger);
 *  4. show the ledger and the table's new column.
 */
import { resolveConfig } from '../src/config/config';
import { describeConnection } from '../src/config/connection-config';
import { loadDotenv } from '../src/config/load-env';
import { createKnex } from '../src/db/knex';
import { describeServer, detectServer } from '../src/db/server-info';
import { migrateToLatest } from '../src/migrator/boot';
import { KnexLedgerStorage } from '../src/migrator/ledger';
import { startLocalServer } from '../src/local-server';
import { createMemoriesTable, insertSampleMemories } from '../src/sample/sample-memories';
import { tableExists } from '../src/schema/inspect';
import { createConsoleLogger } from '../src/util/logger';
import { formatError } from '../src/cli/errors';

async function main(): Promise<number> {
  loadDotenv();
  const line = '='.repeat(70);
  if (!process.env.DATABASE_URL && !process.env.OCEANBASE_HOST) {
    console.log('No DATABASE_URL or OCEANBASE_HOST configured: using the local MariaDB (npm run db:start).');
    process.env.DATABASE_URL = startLocalServer();
    process.env.SPARSE_VECTOR_STORAGE ||= 'json';
  }
  const config = resolveConfig();
  const knex = createKnex(config.connection!);
  try {
    const server = await detectServer(knex);
    console.log(`${line}\nDatabase: ${describeConnection(config.connection!)}\nServer:   ${describeServer(server)}`);
    console.log(`Storage:  ${config.storage === 'json' ? 'portable JSON (SPARSE_VECTOR_STORAGE=json)' : 'native SPARSEVECTOR'}\n${line}`);

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

    console.log(`\n${line}\nLedger (${config.migrationsTable})\n${line}`);
    for (const r of await new KnexLedgerStorage(config.migrationsTable).rows(knex)) {
      console.log(`  batch ${r.batch}  ${r.name}  ${r.migration_time}`);
    }
    const [cols] = await knex.raw(
      'SELECT COLUMN_NAME AS c, COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
      [config.table, config.sparseColumn],
    );
    console.log(`\nColumn ${config.table}.${cols[0]?.c ?? config.sparseColumn}: ${cols[0]?.t ?? 'missing'}`);
    console.log('\nNext: backfill the embeddings with `npx umzug seed` (or `npx sparse-vector run migrate-sparse-vector`).');
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
