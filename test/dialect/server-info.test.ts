import { parseServerVersion, versionAtLeast } from '../../src/db/server-info';
import { selectDialect, supportsNativeSparse } from '../../src/dialect/select-dialect';
import { SparseVectorError } from '../../src/errors';

describe('server detection from VERSION() and @@version_comment', () => {
  test.each([
    ['5.7.25-OceanBase_CE-v4.4.2.1', '', 'oceanbase', '4.4.2.1', false],
    ['5.7.25-OceanBase_CE-v4.3.5.5', '', 'oceanbase', '4.3.5.5', false],
    ['5.7.25-OceanBase_CE-v4.5.0.0', '', 'oceanbase', '4.5.0.0', true],
    ['5.7.25-OceanBase-v4.6.1.2', '', 'oceanbase', '4.6.1.2', true],
    ['5.7.25-OceanBase seekdb-v1.4.0.0', '', 'seekdb', '1.4.0.0', true],
    ['5.7.25-oceanbase SEEKDB-v1.0.1', '', 'seekdb', '1.0.1', true],
    ['5.7.25', 'OceanBase seekdb-v1.1.0.0 (r1)', 'seekdb', '1.1.0.0', true],
    ['5.7.25', 'OceanBase_CE 4.5.1.0 (r100) (Built ...)', 'oceanbase', '4.5.1.0', true],
    ['5.7.25', 'OceanBase_CE 4.3.5.3 (r100) (Built ...)', 'oceanbase', '4.3.5.3', false],
    ['5.7.25-OceanBase_CE', '', 'oceanbase', 'unknown', false],
    ['10.11.19-MariaDB-0+deb12u1', 'Debian 12', 'mariadb', '10.11.19', false],
    ['11.4.2-MariaDB', 'mariadb.org binary distribution', 'mariadb', '11.4.2', false],
    ['8.0.36', 'MySQL Community Server - GPL', 'mysql', '8.0.36', false],
  ])('%s / %s -> %s %s (native sparse: %s)', (version, comment, product, versionText, native) => {
    const info = parseServerVersion(version, comment);
    expect(info.product).toBe(product);
    expect(info.versionText).toBe(versionText);
    expect(supportsNativeSparse(info)).toBe(native);
  });

  test('version comparison', () => {
    expect(versionAtLeast([4, 5, 0, 0], [4, 5, 0])).toBe(true);
    expect(versionAtLeast([4, 4, 9, 9], [4, 5, 0])).toBe(false);
    expect(versionAtLeast([5], [4, 5, 0])).toBe(true);
  });

  test('an unsupported server gets an error naming it, its version and what is required', () => {
    const mariadb = parseServerVersion('10.11.19-MariaDB-0+deb12u1', '');
    expect(() => selectDialect(mariadb, 'native')).toThrow(SparseVectorError);
    try {
      selectDialect(mariadb, 'native');
    } catch (e) {
      const err = e as SparseVectorError;
      expect(err.code).toBe('UNSUPPORTED_SERVER');
      expect(err.message).toContain("MariaDB 10.11.19 (VERSION() = '10.11.19-MariaDB-0+deb12u1')");
      expect(err.message).toContain('seekdb or OceanBase >= 4.5.0');
      expect(err.hint).toContain('SPARSE_VECTOR_STORAGE=json');
    }
    const old = parseServerVersion('5.7.25-OceanBase_CE-v4.3.5.5', '');
    expect(() => selectDialect(old, 'native')).toThrow(/OceanBase 4\.3\.5\.5 .*need seekdb or OceanBase >= 4\.5\.0/);
  });

  test('portable mode is chosen explicitly and works on any server', () => {
    const mariadb = parseServerVersion('10.11.19-MariaDB', '');
    expect(selectDialect(mariadb, 'json').name).toBe('portable-json');
    expect(selectDialect(parseServerVersion('5.7.25-OceanBase seekdb-v1.4.0.0'), 'native').name).toBe('seekdb');
    expect(selectDialect(parseServerVersion('5.7.25-OceanBase_CE-v4.5.0.0'), 'native').name).toBe('oceanbase');
  });
});
