import {
  createSparseVector,
  formatFloat32,
  parseOceanBaseLiteral,
  parsePortableJson,
  sparseDot,
  sparseEquals,
  toOceanBaseLiteral,
  toPortableJson,
  checkIndexLimit,
} from '../../src/sparse/sparse-vector';

describe('sparse vector value type', () => {
  test('entries in any order become ascending indices with float32 weights', () => {
    const v = createSparseVector({ 40: 0.2, 12: 0.5 });
    expect(Array.from(v.indices)).toEqual([12, 40]);
    expect(Array.from(v.values)).toEqual([0.5, Math.fround(0.2)]);
    expect(Array.from(createSparseVector(new Map([[3, 1]])).indices)).toEqual([3]);
  });

  test.each([
    [[[1, NaN]], 'Sparse vector weight NaN at entry 0 is not a finite number.'],
    [[[1, Infinity]], 'Sparse vector weight Infinity at entry 0 is not a finite number.'],
    [[[1, 1e39]], 'Sparse vector weight 1e+39 at entry 0 does not fit in a float32.'],
    [[[-1, 0.5]], 'Sparse vector index -1 at entry 0 is not a non-negative integer.'],
    [[[1.5, 0.5]], 'Sparse vector index 1.5 at entry 0 is not a non-negative integer.'],
    [[[2 ** 32, 0.5]], 'Sparse vector index 4294967296 at entry 0 is above 4294967295 (indices are unsigned 32-bit).'],
    [[[7, 0.5], [7, 0.1]], 'Sparse vector index 7 appears more than once.'],
  ])('%j is rejected: %s', (entries, message) => {
    expect(() => createSparseVector(entries as Array<[number, number]>)).toThrow(message);
  });

  test('index above the target limit (OceanBase/seekdb sparse index: 500,000)', () => {
    expect(() => createSparseVector([[500_001, 1]], { maxIndex: 499_999 })).toThrow(
      "Sparse vector index 500001 at entry 0 is above the limit 499999 (OceanBase/seekdb's sparse index rejects keys above 500,000).",
    );
    expect(() => checkIndexLimit(createSparseVector([[3, 1], [600_000, 1]]), 499_999)).toThrow(/above the limit 499999/);
  });

  test('OceanBase literal: server form, spaces, relaxed JSON keys, empty', () => {
    const v = createSparseVector([[20, 0.25], [1, 0.5]]);
    expect(toOceanBaseLiteral(v)).toBe('{1:0.5,20:0.25}');
    expect(sparseEquals(parseOceanBaseLiteral('{1:0.5, 20:0.25}'), v)).toBe(true);
    expect(sparseEquals(parseOceanBaseLiteral('{"1":0.5,"20":0.25}'), v)).toBe(true);
    expect(toOceanBaseLiteral(createSparseVector([]))).toBe('{}');
    expect(parseOceanBaseLiteral('{}').indices.length).toBe(0);
    expect(() => parseOceanBaseLiteral('[1,2]')).toThrow('Not a sparse vector literal');
    expect(() => parseOceanBaseLiteral('{1:0.5,x:2}')).toThrow('Sparse vector literal entry 1 "x:2" is not index:weight.');
  });

  test('round trips keep large indices and exact float32 weights', () => {
    const weights = [Math.fround(0.1), 1.1754943508222875e-38, 3.4028234663852886e38, -2.5, Math.fround(1 / 3), 1e-7];
    const v = createSparseVector([[4_294_967_295, weights[0]], [499_999, weights[1]], [0, weights[2]], [7, weights[3]], [8, weights[4]], [9, weights[5]]]);
    for (const text of [toOceanBaseLiteral(v), toPortableJson(v)]) {
      const back = text.startsWith('{') ? parseOceanBaseLiteral(text) : parsePortableJson(text);
      expect(Array.from(back.indices)).toEqual([0, 7, 8, 9, 499_999, 4_294_967_295]);
      expect(sparseEquals(back, v)).toBe(true);
    }
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(-0)).toBe('0');
    expect(toPortableJson(createSparseVector([[1, 0.5], [3, 2]]))).toBe('[[1,0.5],[3,2]]');
  });

  test('portable JSON accepts the parsed array the driver may return, and rejects bad shapes', () => {
    expect(Array.from(parsePortableJson([[5, 1], [2, 3]]).indices)).toEqual([2, 5]);
    expect(() => parsePortableJson('{"a":1}')).toThrow('A portable sparse vector is a JSON array of [index, weight] pairs.');
    expect(() => parsePortableJson('[[1,2,3]]')).toThrow('Portable sparse vector entry 0 is not an [index, weight] pair.');
    expect(() => parsePortableJson('not json')).toThrow('is not JSON');
  });

  test('inner product', () => {
    const a = createSparseVector([[1, 2], [5, 3], [9, 1]]);
    const b = createSparseVector([[5, 4], [9, 0.5], [10, 7]]);
    expect(sparseDot(a, b)).toBe(12.5);
    expect(sparseDot(a, createSparseVector([]))).toBe(0);
  });
});
