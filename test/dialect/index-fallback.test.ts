import { parseServerVersion } from '../../src/db/server-info';
import type { IndexForm, SparseTarget } from '../../src/dialect/dialect';
import { OceanBaseDialect } from '../../src/dialect/oceanbase';
import { PortableJsonDialect } from '../../src/dialect/portable-json';
import { SeekdbDialect } from '../../src/dialect/seekdb';
import { selectDialect } from '../../src/dialect/select-dialect';
import { SparseVectorError } from '../../src/errors';
import { detectServer } from '../../src/db/server-info';
import { readSchemaState, upgradeSparseSchema, type SparseSchemaContext } from '../../src/schema/sparse-schema';
import { createMemoryLogger } from '../../src/util/logger';
import { createMemoriesTable, createTestDatabase, type TestDatabase } from '../support/db';

const t: SparseTarget = {
  table: 'memories',
  idColumn: 'id',
  textColumn: 'document',
  sparseColumn: 'sparse_embedding',
  sparseIndex: 'sparse_embedding_idx',
};
const OB = parseServerVersion('5.7.25-OceanBase_CE-v4.5.0.0');
const SEEKDB = parseServerVersion('5.7.25-OceanBase seekdb-v1.4.0.0');
const ddl = (params: string) =>
  `CREATE VECTOR INDEX \`sparse_embedding_idx\` ON \`memories\`(\`sparse_embedding\`) WITH (${params})`;

describe('index DDL forms, in the order they are tried', () => {
  test('OceanBase default: the documented form, then seekdb/SINDI, then pyobvector', () => {
    expect(new OceanBaseDialect(OB).indexForms(t)).toEqual([
      {
        params: 'distance=inner_product',
        source: 'OceanBase documentation (default)',
        sql: ddl('distance=inner_product'),
      },
      {
        params: 'distance=inner_product, type=sindi',
        source: 'seekdb source (check_index_param requires type=sindi and distance for a sparse index)',
        sql: ddl('distance=inner_product, type=sindi'),
      },
      {
        params: 'lib=OB, distance=inner_product, type=sindi',
        source: "pyobvector (powermem's upgrade script)",
        sql: ddl('lib=OB, distance=inner_product, type=sindi'),
      },
    ]);
  });

  test('seekdb default (lib=vsag) first, then the three known forms', () => {
    expect(new SeekdbDialect(SEEKDB).indexForms(t).map((f) => [f.params, f.source])).toEqual([
      ['distance=inner_product, type=sindi, lib=vsag', 'seekdb documentation (default)'],
      ['distance=inner_product', 'OceanBase documentation (CREATE VECTOR INDEX ... WITH (distance=inner_product))'],
      [
        'distance=inner_product, type=sindi',
        'seekdb source (check_index_param requires type=sindi and distance for a sparse index)',
      ],
      ['lib=OB, distance=inner_product, type=sindi', "pyobvector (powermem's upgrade script)"],
    ]);
  });

  test('SPARSE_VECTOR_INDEX_PARAMS first; a known form equal to it (any order, spacing) is not tried twice', () => {
    const forms = selectDialect(OB, 'native', 'type=sindi,distance = inner_product').indexForms!(t);
    expect(forms.map((f) => [f.params, f.source])).toEqual([
      ['type=sindi, distance=inner_product', 'SPARSE_VECTOR_INDEX_PARAMS'],
      ['distance=inner_product', 'OceanBase documentation (CREATE VECTOR INDEX ... WITH (distance=inner_product))'],
      ['lib=OB, distance=inner_product, type=sindi', "pyobvector (powermem's upgrade script)"],
    ]);
    expect(forms[0].sql).toBe(ddl('type=sindi, distance=inner_product'));
  });
});

/**
 * On MariaDB: the real OceanBase forms (which MariaDB rejects with its own syntax error), then a last form
 * MariaDB accepts (a prefix index), to watch each fallback step against a real server.
 */
class FallbackTestDialect extends PortableJsonDialect {
  override readonly hasIndex = true;
  constructor(
    server: ConstructorParameters<typeof PortableJsonDialect>[0],
    private readonly accepted: boolean,
  ) {
    super(server);
  }
  override createIndexSql(target: SparseTarget): string {
    return new OceanBaseDialect(OB).createIndexSql(target);
  }
  indexForms(target: SparseTarget): IndexForm[] {
    const forms = new OceanBaseDialect(OB).indexForms(target);
    if (this.accepted)
      forms.push({
        params: 'prefix 32',
        source: 'test: a form MariaDB accepts',
        sql: `CREATE INDEX \`${target.sparseIndex}\` ON \`${target.table}\` (\`${target.sparseColumn}\`(32))`,
      });
    return forms;
  }
}

describe('index DDL fallback on a real server', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('idxfallback');
    await createMemoriesTable(db.knex);
  });
  afterEach(async () => db.drop());

  test('each rejected form is said with the server error; the first accepted one is used and named', async () => {
    const ctx: SparseSchemaContext = {
      knex: db.knex,
      dialect: new FallbackTestDialect(await detectServer(db.knex), true),
      target: t,
    };
    const log = createMemoryLogger();
    const report = await upgradeSparseSchema(ctx, log);
    expect(report.indexForm).toMatchObject({ params: 'prefix 32', source: 'test: a form MariaDB accepts' });
    expect(report.statements[1]).toBe('CREATE INDEX `sparse_embedding_idx` ON `memories` (`sparse_embedding`(32))');
    const warnings = log.lines.filter((l) => l.startsWith('Warning: The server rejected'));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(
      /^Warning: The server rejected WITH \(distance=inner_product\) \(OceanBase documentation \(default\)\): .*You have an error in your SQL syntax.*; trying WITH \(distance=inner_product, type=sindi\)/,
    );
    expect(warnings[2]).toMatch(
      /^Warning: The server rejected WITH \(lib=OB, distance=inner_product, type=sindi\) .*; trying WITH \(prefix 32\) \(test: a form MariaDB accepts\)$/,
    );
    expect(log.lines).toContain('Index created with WITH (prefix 32), from: test: a form MariaDB accepts');
    expect(await readSchemaState(ctx)).toMatchObject({ indexExists: true, upgraded: true });
  });

  test('every form rejected: INDEX_DDL_REJECTED listing each statement with the server error; the column stays for the next try', async () => {
    const ctx: SparseSchemaContext = {
      knex: db.knex,
      dialect: new FallbackTestDialect(await detectServer(db.knex), false),
      target: t,
    };
    const err = await upgradeSparseSchema(ctx, createMemoryLogger()).catch((e: unknown) => e as SparseVectorError);
    expect((err as SparseVectorError).code).toBe('INDEX_DDL_REJECTED');
    const lines = (err as SparseVectorError).message.split('\n');
    expect(lines[0]).toBe('The server rejected every known form of the sparse vector index DDL:');
    expect(lines.slice(1)).toHaveLength(3);
    expect(lines[1]).toMatch(
      /^ {2}CREATE VECTOR INDEX `sparse_embedding_idx` ON `memories`\(`sparse_embedding`\) WITH \(distance=inner_product\) -> .*SQL syntax/,
    );
    expect((err as SparseVectorError).hint).toContain('SPARSE_VECTOR_INDEX_PARAMS');
    expect(await readSchemaState(ctx)).toMatchObject({ indexExists: false, column: { expectedType: true } });
  });
});
