import type { Knex } from 'knex';
import { requireConnection, type SparseVectorConfig } from '../config/config';
import { discoverTable } from '../config/table-discovery';
import { checkConnection, createKnex, withKnex } from '../db/knex';
import { describeServer, detectServer } from '../db/server-info';
import { SeedLedger, type SeedRecord } from '../backfill/seed-ledger';
import { describeFingerprint } from '../embedders/fingerprint';
import { eligibleWhere, hasText } from '../backfill/queries';
import { BACKFILL_SEEDER } from '../backfill/seeder';
import { quoteIdentifier as q } from '../identifiers';
import { KnexLedgerStorage } from '../migrator/ledger';
import { listScriptFiles, MIGRATIONS_DIR } from '../migrator/migration-files';
import { openSchemaContext, readSchemaState, type SchemaState } from '../schema/sparse-schema';
import { sparseSearch, type SearchHit } from '../search/sparse-search';
import type { SparseEmbedder } from '../embedders/types';
import type { Logger } from '../util/logger';
import { recordedDocumentCount, termStatsExist, termStatsTable } from '../stats/term-stats';

export interface VerifyReport {
  server: string;
  table: string;
  storage: string;
  migrations: { applied: string[]; pending: string[] };
  seeder?: SeedRecord;
  schema: SchemaState & { dialect: string; hasIndex: boolean };
  rows?: { total: number; embedded: number; stillNull: number; emptyText: number; failedLastRun: number };
  /** Term statistics for query-side IDF (local embedder); documents undefined when there are none. */
  termStats: { table: string; documents?: number; provider: string };
  query: string;
  results: SearchHit[];
  /** True when the column (and index, where the server has one) are in place. */
  upgraded: boolean;
}

export interface VerifyOptions {
  config: SparseVectorConfig;
  /** Sample query (default "test query"). */
  query?: string;
  /** Results of the sample query (default 10, at most 16384). */
  limit?: number;
  /** Use the application's knex instance (it is not destroyed). */
  knex?: Knex;
  /** Embedder for the sample query (default createEmbedder(config.embedder)). */
  embedder?: SparseEmbedder;
  /** Receives the search's DEBUG lines. */
  logger?: Logger;
}

/**
 * Ledger, schema, row counts and a sample search: what `npx sparse-vector verify` prints. Reads only;
 * `upgraded` is false (and the CLI exits 1) while the column or, on native servers, the index is missing.
 */
export async function verifySparseVector(options: VerifyOptions): Promise<VerifyReport> {
  let { config } = options;
  const connection = requireConnection(config);
  const query = options.query ?? 'test query';
  return withKnex(
    options.knex,
    () => createKnex(connection, { pool: 2 }),
    async (knex) => {
      if (!options.knex) await checkConnection(knex, connection);
      config = await discoverTable(knex, config); // the report names the table
      const server = await detectServer(knex);
      const ctx = await openSchemaContext(knex, config);
      const state = await readSchemaState(ctx);
      const applied = (await new KnexLedgerStorage(config.migrationsTable).rows(knex)).map((r) => r.name);
      const pending = listScriptFiles(MIGRATIONS_DIR)
        .map((f) => f.name)
        .filter((n) => !applied.includes(n));
      const seeder = await new SeedLedger(config.seedsTable).get(knex, BACKFILL_SEEDER);
      const report: VerifyReport = {
        server: describeServer(server),
        table: config.table,
        storage: config.storage,
        migrations: { applied, pending },
        seeder,
        schema: { ...state, dialect: ctx.dialect.name, hasIndex: ctx.dialect.hasIndex },
        query,
        results: [],
        upgraded: state.upgraded,
        termStats: await readTermStats(knex, config, options.embedder),
      };
      if (state.tableExists) {
        const t = ctx.target;
        // One scan for every figure.
        const [rows] = (await knex.raw(
          `SELECT COUNT(*) AS total, ${state.column ? `SUM(${q(t.sparseColumn)} IS NOT NULL)` : '0'} AS embedded, ` +
            `SUM(NOT ${hasText(q(t.textColumn))}) AS empty, ${state.column ? `SUM(${eligibleWhere(t).sql})` : 'NULL'} AS still_null FROM ${q(t.table)}`,
        )) as [Array<{ total: unknown; embedded: unknown; empty: unknown; still_null: unknown }>];
        report.rows = {
          total: Number(rows[0].total),
          embedded: Number(rows[0].embedded ?? 0),
          stillNull: state.column
            ? Number(rows[0].still_null ?? 0)
            : Number(rows[0].total) - Number(rows[0].empty ?? 0),
          emptyText: Number(rows[0].empty ?? 0),
          failedLastRun: seeder?.failed ?? 0,
        };
      }
      if (state.upgraded)
        report.results = await sparseSearch({
          config,
          query,
          limit: options.limit ?? 10,
          knex,
          embedder: options.embedder,
          logger: options.logger,
        });
      return report;
    },
  );
}

/** The recorded embedding space of the stored vectors, and a re-embed in progress (see backfill/embedding-space.ts). */
function embedderLine(seeder: SeedRecord | undefined): string {
  const recorded = seeder?.embedder_fingerprint ? describeFingerprint(seeder.embedder_fingerprint) : undefined;
  if (seeder?.reembed_to)
    return (
      `re-embed in progress from ${recorded ?? '(not recorded)'} to ${describeFingerprint(seeder.reembed_to)}` +
      ` (checkpoint: ${seeder.reembed_after ? `id ${seeder.reembed_after}` : 'none yet'}); search accepts both, results mix the two until it completes`
    );
  return recorded ? `${recorded} (recorded for the stored vectors)` : 'not recorded (any embedder is accepted)';
}

export function formatVerifyReport(r: VerifyReport): string[] {
  const yes = (b: boolean) => (b ? '✓' : '✗');
  const lines = [
    `Server:      ${r.server}`,
    `Table:       ${r.table} (storage: ${r.storage}, dialect: ${r.schema.dialect})`,
    `Migrations:  applied: ${r.migrations.applied.join(', ') || '(none)'}; pending: ${r.migrations.pending.join(', ') || '(none)'}`,
    `Column:      ${yes(!!r.schema.column?.expectedType)} sparse_embedding${r.schema.column ? ` (${r.schema.column.columnType})` : ' missing'}`,
    `Index:       ${r.schema.hasIndex ? `${yes(r.schema.indexExists)} sparse_embedding_idx${r.schema.indexExists ? '' : ' missing'}` : '- none in portable mode (exact search in SQL)'}`,
  ];
  if (r.rows) {
    lines.push(
      `Rows:        ${r.rows.total} total | ${r.rows.embedded} embedded | ${r.rows.stillNull} still NULL | ${r.rows.emptyText} with empty text` +
        ` | ${r.rows.failedLastRun} failed in the last backfill run`,
    );
  }
  lines.push(
    `Backfill:    ${r.seeder ? `${r.seeder.status} (runs: ${r.seeder.runs}, last: ${r.seeder.last_finished_at ?? 'running'})` : 'never run'}`,
  );
  lines.push(`Embedder:    ${embedderLine(r.seeder)}`);
  if (r.upgraded && r.rows && r.rows.stillNull > 0) {
    // Rows with text but no vector do not take part in sparse search.
    lines.push(
      r.seeder?.status === 'done'
        ? `             ${r.rows.stillNull} rows with text have no vector although the backfill is recorded as done: run \`npx sparse-vector run migrate-sparse-vector\``
        : `             ${r.rows.stillNull} rows with text have no vector yet: run \`npx sparse-vector run migrate-sparse-vector\``,
    );
  }
  if (r.upgraded) lines.push(termStatsLine(r));
  if (r.upgraded) {
    lines.push(``, `Search "${r.query}": ${r.results.length} results`);
    r.results.forEach((h, i) => lines.push(`  ${i + 1}. [${h.score.toFixed(4)}] id ${h.id}: ${snippet(h.text)}`));
  } else if (!r.schema.tableExists) {
    lines.push(
      '',
      `Table '${r.table}' does not exist: create it first, or set OCEANBASE_COLLECTION to the memories table.`,
    );
  } else {
    lines.push(
      '',
      'The schema is not upgraded: run `npx sparse-vector run upgrade-sparse-vector` (or `npx umzug up`).',
    );
  }
  return lines;
}

async function readTermStats(
  knex: Knex,
  config: SparseVectorConfig,
  embedder?: SparseEmbedder,
): Promise<VerifyReport['termStats']> {
  const table = termStatsTable(config.table);
  const provider = embedder?.provider ?? config.embedder.provider ?? 'local';
  const documents = (await termStatsExist(knex, table)) ? await recordedDocumentCount(knex, table) : undefined;
  return { table, documents, provider };
}

function termStatsLine(r: VerifyReport): string {
  const { table, documents, provider } = r.termStats;
  if (provider !== 'local')
    return `IDF stats:   - not used with the ${provider} embedder (its weights carry term importance)`;
  if (documents === undefined)
    return `IDF stats:   - none (${table} missing): search works, without IDF; the next backfill run builds them`;
  const embedded = r.rows?.embedded;
  if (embedded !== undefined && documents !== embedded) {
    return `IDF stats:   ✗ ${table} counts ${documents} vectors, the table stores ${embedded}: IDF is approximate until the next backfill run rebuilds them`;
  }
  return `IDF stats:   ✓ ${table}: ${documents} vectors counted (query terms weighted by IDF with the local embedder)`;
}

function snippet(text: string, max = 60): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}
