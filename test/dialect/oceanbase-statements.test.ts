import { parseServerVersion } from '../../src/db/server-info';
import type { SparseTarget } from '../../src/dialect/dialect';
import { OceanBaseDialect } from '../../src/dialect/oceanbase';
import { SeekdbDialect } from '../../src/dialect/seekdb';
import { PortableJsonDialect } from '../../src/dialect/portable-json';
import { selectDialect } from '../../src/dialect/select-dialect';
import { createSparseVector } from '../../src/sparse/sparse-vector';

/**
 * Statement tests for the OceanBase/seekdb dialects against the documented syntax:
 * - seekdb, in-memory sparse vector index: CREATE VECTOR INDEX i ON t(c) WITH (distance=inner_product, type=sindi, lib=vsag)
 * - OceanBase: ALTER TABLE t ADD COLUMN c SPARSEVECTOR; CREATE VECTOR INDEX i ON t(c) WITH (distance=inner_product)
 * - no DROP INDEX IF EXISTS: DROP INDEX i ON t
 * - ANN search: ORDER BY negative_inner_product(c, '{...}') APPROXIMATE LIMIT k
 */
const target: SparseTarget = {
  table: 'memories',
  idColumn: 'id',
  textColumn: 'document',
  sparseColumn: 'sparse_embedding',
  sparseIndex: 'sparse_embedding_idx',
};
const ob = new OceanBaseDialect(parseServerVersion('5.7.25-OceanBase_CE-v4.5.0.0'));
const seek = new SeekdbDialect(parseServerVersion('5.7.25-OceanBase seekdb-v1.4.0.0'));

describe('OceanBase dialect statements', () => {
  test('add column', () => {
    expect(ob.addColumnSql(target)).toBe('ALTER TABLE `memories` ADD COLUMN `sparse_embedding` SPARSEVECTOR');
  });
  test('create index uses the documented OceanBase WITH clause', () => {
    expect(ob.createIndexSql(target)).toBe(
      'CREATE VECTOR INDEX `sparse_embedding_idx` ON `memories`(`sparse_embedding`) WITH (distance=inner_product)',
    );
  });
  test("the WITH parameters can be overridden (e.g. pyobvector's form)", () => {
    const d = selectDialect(
      parseServerVersion('5.7.25-OceanBase_CE-v4.5.0.0'),
      'native',
      'lib=OB,distance=inner_product , type=sindi',
    );
    expect(d.createIndexSql(target)).toBe(
      'CREATE VECTOR INDEX `sparse_embedding_idx` ON `memories`(`sparse_embedding`) WITH (lib=OB, distance=inner_product, type=sindi)',
    );
  });
  test('drop index and drop column', () => {
    expect(ob.dropIndexSql(target)).toBe('DROP INDEX `sparse_embedding_idx` ON `memories`');
    expect(ob.dropColumnSql(target)).toBe('ALTER TABLE `memories` DROP COLUMN `sparse_embedding`');
  });
  test('column type recognition', () => {
    expect(ob.isExpectedColumnType('sparsevector', 'sparsevector')).toBe(true);
    expect(ob.isExpectedColumnType('SPARSE_VECTOR', '')).toBe(true);
    expect(ob.isExpectedColumnType('longtext', 'longtext')).toBe(false);
  });
  test('values are bound as the sparse text literal', () => {
    const v = createSparseVector([
      [40, 0.25],
      [12, 0.5],
    ]);
    expect(ob.encode(v)).toBe('{12:0.5,40:0.25}');
    const back = ob.decode('{12:0.5,40:0.25}');
    expect(Array.from(back.indices)).toEqual([12, 40]);
    expect(Array.from(back.values)).toEqual([0.5, 0.25]);
  });
  test('search uses negative_inner_product ... APPROXIMATE LIMIT with the query bound', () => {
    const s = ob.searchSql(
      target,
      createSparseVector([
        [3, 1],
        [7, 0.5],
      ]),
      10,
    );
    expect(s.sql).toBe(
      'SELECT m.`id` AS `id`, m.`document` AS `text`, negative_inner_product(m.`sparse_embedding`, ?) AS `score` ' +
        'FROM `memories` AS m WHERE m.`sparse_embedding` IS NOT NULL ORDER BY `score` APPROXIMATE LIMIT 10',
    );
    expect(s.bindings).toEqual(['{3:1,7:0.5}']);
    expect(s.similarity('-1.5')).toBe(1.5);
    expect(() => ob.searchSql(target, createSparseVector([[1, 1]]), 16385)).toThrow(/1 to 16384/);
    expect(() => ob.searchSql(target, createSparseVector([[1, 1]]), 0)).toThrow(/1 to 16384/);
    expect(ob.searchSql(target, createSparseVector([[1, 1]]), 16384).sql).toMatch(/APPROXIMATE LIMIT 16384$/);
  });
  test('sparse index keys are limited to the SINDI range', () => {
    expect(ob.maxIndex).toBe(499_999);
  });
});

describe('seekdb dialect statements', () => {
  test('create index uses the documented seekdb SINDI form', () => {
    expect(seek.createIndexSql(target)).toBe(
      'CREATE VECTOR INDEX `sparse_embedding_idx` ON `memories`(`sparse_embedding`) WITH (distance=inner_product, type=sindi, lib=vsag)',
    );
  });
  test('column and search statements are the OceanBase ones', () => {
    expect(seek.addColumnSql(target)).toBe(ob.addColumnSql(target));
    const q = createSparseVector([[1, 2]]);
    expect(seek.searchSql(target, q, 5).sql).toBe(ob.searchSql(target, q, 5).sql);
  });
});

describe('portable JSON dialect statements', () => {
  const pj = new PortableJsonDialect(parseServerVersion('10.11.19-MariaDB'));
  test('a nullable JSON column and no index', () => {
    expect(pj.addColumnSql(target)).toBe('ALTER TABLE `memories` ADD COLUMN `sparse_embedding` JSON NULL');
    expect(pj.createIndexSql()).toBeUndefined();
    expect(pj.hasIndex).toBe(false);
  });
  test('identifiers are validated before they reach SQL', () => {
    expect(() => pj.addColumnSql({ ...target, table: 'memories`; DROP TABLE x; --' })).toThrow(/Invalid identifier/);
  });
});
