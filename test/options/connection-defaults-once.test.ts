import { CONNECTION, LOGGING, SETTINGS, TARGET, type OptionSpec } from '../../src/options/table';
import { MYSQL_PORT } from '../../src/options/table-connection';
import { sources, statedIn } from '../support/stated-defaults';

/** The option table: table.ts and its parts (files of their own to keep each under 300 lines). */
const TABLE = ['src/options/table.ts', 'src/options/table-connection.ts', 'src/options/table-embedder.ts'];

describe('the connection, table and ledger defaults are stated only in the option table', () => {
  const cases: Array<[OptionSpec, number | string]> = [
    [CONNECTION.port, CONNECTION.port.default],
    [CONNECTION.port, MYSQL_PORT],
    [CONNECTION.user, CONNECTION.user.default],
    [TARGET.table, TARGET.table.example],
    [TARGET.textColumn, TARGET.textColumn.default],
    [TARGET.migrationsTable, TARGET.migrationsTable.default],
    [TARGET.seedsTable, TARGET.seedsTable.default],
    [SETTINGS.lockTimeoutSeconds, SETTINGS.lockTimeoutSeconds.default],
    [LOGGING.logLevel, LOGGING.logLevel.default],
  ];
  test.each(cases.map(([spec, value]) => [spec.env!, value, spec] as const))(
    '%s: its default %s is stated only in the option table',
    (_name, value, spec) => {
      expect(statedIn(spec, sources(TABLE), value)).toEqual([]);
    },
  );

  test('the check finds the definitions the table replaced (config/*.ts, cli/seed-action.ts, util/logger.ts)', () => {
    const before = {
      'connection-config.ts': `    port: parseInteger(env.OCEANBASE_PORT, 'OCEANBASE_PORT', 2881, { min: 1, max: 65535 }),
    user: env.OCEANBASE_USER || 'root',`,
      'url.ts': '    port: parseInteger(u.port || undefined, `${source} port`, 3306, { min: 1, max: 65535 }),',
      'config.ts': `    textColumn: validateIdentifier(env.OCEANBASE_TEXT_FIELD || 'document', 'text column', 'OCEANBASE_TEXT_FIELD'),
    migrationsTable: validateIdentifier(
      env.SPARSE_MIGRATIONS_TABLE || ledgerTableFor('sparse_vector_migrations', table),`,
      'object.ts': `      port: c.port ?? 3306,\n      seedsTable: "sparse_vector_seeds",`,
      'seed-action.ts': `'records the run in the seeds ledger (SPARSE_SEEDS_TABLE, default sparse_vector_seeds). ' +`,
      'logger.ts': `  const l = (env.LOG_LEVEL || 'info').toLowerCase();`,
      'discovery.ts': "hint: 'Choose the table your powermem uses: set OCEANBASE_COLLECTION=power_mem or ...',",
      'derived.ts': `const ledger = ledgerTableFor(base, table) ?? 'sparse_vector_seeds_notes';`,
    };
    const files = (hits: string[]) => hits.map((h) => h.split(':')[0]);
    expect(files(statedIn(CONNECTION.port, before))).toEqual(['connection-config.ts']);
    expect(files(statedIn(CONNECTION.port, before, MYSQL_PORT))).toEqual(['url.ts', 'object.ts']);
    expect(files(statedIn(CONNECTION.user, before))).toEqual(['connection-config.ts']);
    expect(files(statedIn(TARGET.table, before, TARGET.table.example))).toEqual(['discovery.ts']);
    expect(files(statedIn(TARGET.textColumn, before))).toEqual(['config.ts']);
    expect(files(statedIn(TARGET.migrationsTable, before))).toEqual(['config.ts']);
    expect(files(statedIn(TARGET.seedsTable, before))).toEqual(['object.ts', 'seed-action.ts']);
    expect(files(statedIn(LOGGING.logLevel, before))).toEqual(['logger.ts']);
  });
});
