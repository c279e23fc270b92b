import type { Knex } from 'knex';
import { requireConnection, type SparseVectorConfig } from '../config/config';
import { checkConnection, createKnex } from '../db/knex';
import { describeServer, detectServer } from '../db/server-info';
import { SeedLedger, type SeedRecord } from '../backfill/seed-ledger';
import { countEligible } from '../backfill/reader';
import { BACKFILL_SEEDER } from '../backfill/seeder';
import { quoteIdentifier as q } from '../identifiers';
import { KnexLedgerStorage } from '../migrator/ledger';
import { listScriptFiles, MIGRATIONS_DIR } from '../migrator/migration-files';
import { openSchemaContext, readSchemaState, type SchemaState } from '../schema/sparse-schema';
import { sparseSearch, type SearchHit } from '../search/sparse-search';
import type { Logger } from '../util/logger';

export interface VerifyReport {
  server: string;
  table: string;
  storage: string;
  migrations: { applied: string[]; pending: string[] };
  seeder?: SeedRecord;
  schema: SchemaState & { dialect: string; hasIndex: boolean };
  rows?: { total: number; embedded: number; stillNull: number; emptyText: number; failedLastRun: number };
  query: string;
  results: SearchHit[];
  /** True when the column (and index, where the server has one) are in place. */
  upgraded: boolean;
}

/** Ledger, schema, row counts and a sample search: what `npx sparse-vector verify` prints. */
export async function verifySparseVector(options: { config: SparseVectorConfig; query?: string; limit?: number; knex?: Knex; logger?: Logger }): Promise<VerifyReport> {
  const { config } = options;
  const connection = requireConnection(config);
  const knex = options.knex ?? createKnex(connection, { pool: 2 });
  const query = options.query ?? 'test query';
  try {
    if (!options.knex) await checkConnection(knex, connection);
    const server = await detectServer(knex);
    const ctx = await openSchemaContext(knex, config);
    const state = await readSchemaState(ctx);
    const applied = (await new KnexLedgerStorage(config.migrationsTable).rows(knex)).map((r) => r.name);
    const pending = listScriptFiles(MIGRATIONS_DIR).map((f) => f.name).filter((n) => !applied.includes(n));
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
    };
    if (state.tableExists) {
      const t = ctx.target;
      const [rows] = (await knex.raw(
        `SELECT COUNT(*) AS total, ${state.column ? `SUM(${q(t.sparseColumn)} IS NOT NULL)` : '0'} AS embedded, ` +
          `SUM(${q(t.textColumn)} IS NULL OR TRIM(${q(t.textColumn)}) = '') AS empty FROM ${q(t.table)}`,
      )) as [Array<{ total: unknown; embedded: unknown; empty: unknown }>];
      report.rows = {
        total: Number(rows[0].total),
        embedded: Number(rows[0].embedded ?? 0),
        stillNull: state.column ? await countEligible(knex, t) : Number(rows[0].total) - Number(rows[0].empty ?? 0),
        emptyText: Number(rows[0].empty ?? 0),
        failedLastRun: seeder?.failed ?? 0,
      };
    }
    if (state.upgraded) report.results = await sparseSearch({ config, query, limit: options.limit ?? 5, knex, logger: options.logger });
    return report;
  } finally {
    if (!options.knex) await knex.destroy();
  }
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
  lines.push(`Backfill:    ${r.seeder ? `${r.seeder.status} (runs: ${r.seeder.runs}, last: ${r.seeder.last_finished_at ?? 'running'})` : 'never run'}`);
  if (r.upgraded) {
    lines.push(``, `Search "${r.query}": ${r.results.length} results`);
    r.results.forEach((h, i) => lines.push(`  ${i + 1}. [${h.score.toFixed(4)}] id ${h.id}: ${snippet(h.text)}`));
  } else {
    lines.push('', 'The schema is not upgraded: run `npx sparse-vector run upgrade-sparse-vector` (or `npx umzug up`).');
  }
  return lines;
}

function snippet(text: string, max = 60): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}
