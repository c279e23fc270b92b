/**
 * The guide's "Complete Migration Example", in TypeScript:
 * list the scripts, show their details, upgrade the schema, test the backfill with a dry run,
 * run it, and verify with a search (DEBUG logging shows the sparse query).
 *
 *   node dist/examples/complete-migration.js [--create-sample] [--yes] [--query "text"]
 *
 * Uses DATABASE_URL / OCEANBASE_* (from .env or the environment); with neither set it starts the
 * project's local MariaDB. On MariaDB/MySQL, portable mode (SPARSE_VECTOR_STORAGE=json) is used unless
 * you set SPARSE_VECTOR_STORAGE yourself. --yes runs the formal migration without asking; --query replaces
 * the guide's verification query "test query".
 */
import readline from 'node:readline';
import { resolveConfig } from '../src/config/config';
import { loadDotenv } from '../src/config/load-env';
import { createKnex } from '../src/db/knex';
import { detectServer } from '../src/db/server-info';
import { formatError } from '../src/cli/errors';
import { startLocalServer } from '../scripts/local-server';
import { discoverTableOrDefault } from '../src/config/table-discovery';
import { createMemoriesTable, insertSampleMemories } from '../testing/sample-memories';
import { tableExists } from '../src/schema/inspect';
import { ScriptManager, type ScriptRunResult } from '../src/script-manager/manager';
import { sparseSearch } from '../src/search/sparse-search';
import { createConsoleLogger } from '../src/util/logger';

const banner = (title: string) => console.log(`\n${'='.repeat(60)}\n${title}\n${'='.repeat(60)}`);

async function ask(question: string): Promise<string> {
  if (!process.stdin.isTTY) return '';
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  return new Promise((resolve) => rl.question(question, (a) => (rl.close(), resolve(a))));
}

/** A script's result, or its error thrown (runScript returns errors as values; this example stops on one). */
async function succeed(run: Promise<ScriptRunResult>): Promise<unknown> {
  const r = await run;
  if (!r.ok) throw r.error;
  return r.result;
}

async function main(): Promise<number> {
  loadDotenv();
  if (!process.env.DATABASE_URL && !process.env.OCEANBASE_HOST) process.env.DATABASE_URL = startLocalServer();
  // 1. List available scripts
  banner('Step 1: List Available Scripts');
  ScriptManager.listScripts();

  // 2. View script details
  banner('Step 2: View Script Details');
  ScriptManager.info('upgrade-sparse-vector');
  ScriptManager.info('migrate-sparse-vector');

  // 3. Load configuration (portable mode on MariaDB/MySQL unless chosen explicitly)
  let config = resolveConfig();
  const probe = createKnex(config.connection!, { pool: 1 });
  try {
    const server = await detectServer(probe);
    if (!process.env.SPARSE_VECTOR_STORAGE && (server.product === 'mariadb' || server.product === 'mysql')) {
      config = resolveConfig({ storage: 'json' });
      console.log(`\n${server.product} detected: using portable mode (SPARSE_VECTOR_STORAGE=json).`);
    }
    config = await discoverTableOrDefault(probe, config);
    if (process.argv.includes('--create-sample') && !(await tableExists(probe, config.table))) {
      await createMemoriesTable(probe, config.table);
      await insertSampleMemories(probe, { table: config.table, count: 300 });
      console.log(`Created the sample table '${config.table}' with 300 memories.`);
    }
  } finally {
    await probe.destroy();
  }

  // 4. Run the upgrade script
  banner('Step 3: Run Schema Upgrade Script');
  await succeed(ScriptManager.run('upgrade-sparse-vector', {}, { config }));

  // 5-6. Test the migration (dry run)
  banner('Step 4: Test Migration (dry-run)');
  await succeed(ScriptManager.run('migrate-sparse-vector', { dry_run: true }, { config }));

  // 7. Formal migration
  banner('Step 5: Run Data Migration Script (Optional)');
  const go = process.argv.includes('--yes') || /^y/i.test(await ask('Execute formal migration? (y/N): '));
  if (go) await succeed(ScriptManager.run('migrate-sparse-vector', { batch_size: 100, workers: 3 }, { config }));
  else console.log('Skipped (pass --yes, or answer y on a terminal).');

  // 8. Verify search, with DEBUG logging
  banner('Step 6: Verify Search');
  const q = process.argv.indexOf('--query');
  const query = q > 0 && process.argv[q + 1] ? process.argv[q + 1] : 'test query';
  const results = await sparseSearch({ config, query, limit: 10, logger: createConsoleLogger({ level: 'debug' }) });
  console.log(`\n✓ Search returned ${results.length} results`);
  console.log('  Sparse vector search is active (check DEBUG logs to confirm)');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(formatError(err));
    process.exit(1);
  },
);
