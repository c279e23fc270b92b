import { SparseVectorError } from '../../src/errors';
import {
  checkIndexLimit,
  createSparseVector,
  formatFloat32,
  parseOceanBaseLiteral,
  parsePortableJson,
  SPARSE_INDEX_LIMIT,
  sparseDot,
  sparseEquals,
  toOceanBaseLiteral,
  toPortableJson,
  type SparseVector,
} from '../../src/sparse/sparse-vector';

/** Deterministic PRNG for the property tests (LCG, 32-bit). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** The float32 with the given bit pattern. */
function float32FromBits(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits >>> 0);
  return view.getFloat32(0);
}

/** Fewest significant digits p (1..9) for which toPrecision(p) reads back as the same float32, by brute force. */
function fewestDigits(f: number): number {
  for (let p = 1; p <= 9; p++) if (Math.fround(Number(f.toPrecision(p))) === f) return p;
  throw new Error(`no round trip for ${f}`);
}

function significantDigits(text: string): number {
  const mantissa = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.max(1, mantissa.length);
}

function entries(v: SparseVector): Array<[number, number]> {
  return Array.from(v.indices, (i, k) => [i, v.values[k]]);
}

describe('createSparseVector', () => {
  test('entries in any order become ascending indices with float32 weights; pairs, objects and Maps', () => {
    const v = createSparseVector({ 40: 0.2, 12: 0.5 });
    expect(v.indices).toBeInstanceOf(Uint32Array);
    expect(v.values).toBeInstanceOf(Float32Array);
    expect(entries(v)).toEqual([
      [12, 0.5],
      [40, Math.fround(0.2)],
    ]);
    expect(
      entries(
        createSparseVector(
          new Map([
            [9, 1],
            [3, 2],
          ]),
        ),
      ),
    ).toEqual([
      [3, 2],
      [9, 1],
    ]);
    expect(
      entries(
        createSparseVector([
          [7, 0.25],
          [1, 4],
        ]),
      ),
    ).toEqual([
      [1, 4],
      [7, 0.25],
    ]);
    expect(createSparseVector([]).indices.length).toBe(0);
  });

  test.each([
    [[[1, NaN]], 'Sparse vector weight NaN at entry 0 is not a finite number.'],
    [
      [
        [1, 2],
        [3, Infinity],
      ],
      'Sparse vector weight Infinity at entry 1 is not a finite number.',
    ],
    [[[1, -Infinity]], 'Sparse vector weight -Infinity at entry 0 is not a finite number.'],
    [[[1, '0.5']], 'Sparse vector weight "0.5" at entry 0 is not a finite number.'],
    [[[1, null]], 'Sparse vector weight null at entry 0 is not a finite number.'],
    [[[1, 1e39]], 'Sparse vector weight 1e+39 at entry 0 does not fit in a float32.'],
    [[[1, -3.5e38]], 'Sparse vector weight -3.5e+38 at entry 0 does not fit in a float32.'],
    [[[-1, 0.5]], 'Sparse vector index -1 at entry 0 is not a non-negative integer.'],
    [[[1.5, 0.5]], 'Sparse vector index 1.5 at entry 0 is not a non-negative integer.'],
    [[['3', 0.5]], 'Sparse vector index "3" at entry 0 is not a non-negative integer.'],
    [[[NaN, 0.5]], 'Sparse vector index NaN at entry 0 is not a non-negative integer.'],
    [[[2 ** 32, 0.5]], 'Sparse vector index 4294967296 at entry 0 is above 4294967295 (indices are unsigned 32-bit).'],
    [
      [
        [7, 0.5],
        [2, 1],
        [7, 0.1],
      ],
      'Sparse vector index 7 appears more than once.',
    ],
    [[[1, 0.5], [2]], 'Sparse vector entry 1 is not an [index, weight] pair.'],
  ])('%p is rejected: %s', (input, message) => {
    let error: unknown;
    try {
      createSparseVector(input as unknown as Array<[number, number]>);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SparseVectorError);
    expect((error as SparseVectorError).code).toBe('SPARSE_VECTOR_INVALID');
    expect((error as SparseVectorError).message).toBe(message);
  });

  test('object keys that are not decimal integers are named in the error', () => {
    expect(() => createSparseVector({ abc: 1 })).toThrow(
      'Sparse vector index "abc" at entry 0 is not a non-negative integer.',
    );
    expect(() => createSparseVector({ '-2': 1 })).toThrow(
      'Sparse vector index "-2" at entry 0 is not a non-negative integer.',
    );
  });

  test('float32 range boundaries: the largest float32 and values that round to it pass, the next step overflows', () => {
    const max = 3.4028234663852886e38;
    expect(createSparseVector([[0, max]]).values[0]).toBe(max);
    expect(createSparseVector([[0, 3.4028235e38]]).values[0]).toBe(max); // its shortest text
    expect(() => createSparseVector([[0, 3.4028236e38]])).toThrow('does not fit in a float32');
    expect(createSparseVector([[0, 1.1754943508222875e-38]]).values[0]).toBe(1.1754943508222875e-38); // smallest normal
    expect(createSparseVector([[0, 1e-46]]).values[0]).toBe(0); // below the smallest subnormal: rounds to 0, as the server would
  });

  test('index limit: the message names the limit and the OceanBase/seekdb sparse index rule', () => {
    expect(() =>
      createSparseVector(
        [
          [3, 1],
          [500_001, 1],
        ],
        { maxIndex: 499_999 },
      ),
    ).toThrow(
      "Sparse vector index 500001 at entry 1 is above the limit 499999 (OceanBase/seekdb's sparse index rejects keys above 500,000).",
    );
    expect(() => createSparseVector([[1000, 1]], { maxIndex: SPARSE_INDEX_LIMIT })).not.toThrow();
    expect(entries(createSparseVector([[499_999, 1]], { maxIndex: 499_999 }))).toEqual([[499_999, 1]]);
    expect(SPARSE_INDEX_LIMIT).toBe(500_000);
  });

  test('checkIndexLimit checks an existing vector against a target limit', () => {
    const v = createSparseVector([
      [3, 1],
      [600_000, 1],
    ]);
    expect(() => checkIndexLimit(v, 499_999)).toThrow(
      /index 600000 at position 1 is above the limit 499999 \(OceanBase\/seekdb's sparse index rejects keys above 500,000\)/,
    );
    expect(checkIndexLimit(v, 600_000)).toBe(v);
    expect(checkIndexLimit(createSparseVector([]), 0).indices.length).toBe(0);
  });

  test('-0 is stored as +0 (decided: the sign of a zero weight means nothing); zero weights are kept', () => {
    const v = createSparseVector([
      [5, -0],
      [6, 0],
    ]);
    expect(Object.is(v.values[0], 0)).toBe(true);
    expect(v.indices.length).toBe(2);
    expect(toOceanBaseLiteral(v)).toBe('{5:0,6:0}');
    expect(formatFloat32(-0)).toBe('0');
    expect(Object.is(parseOceanBaseLiteral('{5:-0}').values[0], 0)).toBe(true);
  });
});

describe('text forms', () => {
  test('OceanBase literal: server form, spaces, relaxed JSON keys, empty', () => {
    const v = createSparseVector([
      [20, 0.25],
      [1, 0.5],
    ]);
    expect(toOceanBaseLiteral(v)).toBe('{1:0.5,20:0.25}');
    expect(sparseEquals(parseOceanBaseLiteral('{1:0.5, 20:0.25}'), v)).toBe(true);
    expect(sparseEquals(parseOceanBaseLiteral(' { 20 : 0.25 ,1:5e-1 } '), v)).toBe(true);
    expect(sparseEquals(parseOceanBaseLiteral('{"1":0.5,"20":0.25}'), v)).toBe(true);
    expect(toOceanBaseLiteral(createSparseVector([]))).toBe('{}');
    expect(parseOceanBaseLiteral('{}').indices.length).toBe(0);
    expect(parseOceanBaseLiteral('{ }').indices.length).toBe(0);
  });

  test('OceanBase literal: bad input is rejected with the offending part', () => {
    expect(() => parseOceanBaseLiteral('[1,2]')).toThrow(
      'Not a sparse vector literal: "[1,2]" (expected {index:weight,...}).',
    );
    expect(() => parseOceanBaseLiteral('{1:0.5,x:2}')).toThrow(
      'Sparse vector literal entry 1 "x:2" is not index:weight.',
    );
    expect(() => parseOceanBaseLiteral('{1:0.5,}')).toThrow('Sparse vector literal entry 1 "" is not index:weight.');
    expect(() => parseOceanBaseLiteral('{1:nan}')).toThrow(
      'Sparse vector literal entry 0 "1:nan" is not index:weight.',
    );
    expect(() => parseOceanBaseLiteral('{1:1,1:2}')).toThrow('Sparse vector index 1 appears more than once.');
    expect(() => parseOceanBaseLiteral('{500001:1}', { maxIndex: 499_999 })).toThrow('above the limit 499999');
  });

  test('portable JSON: pairs ascending; accepts the parsed array the driver may return; rejects bad shapes', () => {
    expect(
      toPortableJson(
        createSparseVector([
          [3, 2],
          [1, 0.5],
        ]),
      ),
    ).toBe('[[1,0.5],[3,2]]');
    expect(toPortableJson(createSparseVector([]))).toBe('[]');
    expect(JSON.parse(toPortableJson(createSparseVector([[3, Math.fround(0.1)]])))).toEqual([[3, 0.1]]);
    expect(
      entries(
        parsePortableJson([
          [5, 1],
          [2, 3],
        ]),
      ),
    ).toEqual([
      [2, 3],
      [5, 1],
    ]);
    expect(entries(parsePortableJson(' [[5,1]] '))).toEqual([[5, 1]]);
    expect(() => parsePortableJson('{"a":1}')).toThrow(
      'A portable sparse vector is a JSON array of [index, weight] pairs.',
    );
    expect(() => parsePortableJson(null)).toThrow('A portable sparse vector is a JSON array of [index, weight] pairs.');
    expect(() => parsePortableJson('[[1,2,3]]')).toThrow(
      'Portable sparse vector entry 0 is not an [index, weight] pair.',
    );
    expect(() => parsePortableJson('[[1,null]]')).toThrow(
      'Sparse vector weight null at entry 0 is not a finite number.',
    );
    expect(() => parsePortableJson('not json')).toThrow('Not a portable sparse vector: "not json" is not JSON.');
  });

  test('both text forms equal the entry-by-entry text on random vectors: every digit width, every weight kind, the reused buffer', () => {
    // The encoders write bytes into one reused buffer (src/sparse/ascii-writer.ts): compared here with the text
    // built from String(index) and formatFloat32, entry by entry, on vectors of growing and shrinking sizes.
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const edges = [0, 9, 10, 99, 100, 999_999_999, 1_000_000_000, 4_294_967_295];
    const weight = () => {
      const r = random();
      if (r < 0.1) return 0;
      if (r < 0.3) return -random() * 10 ** Math.floor(random() * 76 - 38);
      return random() * 10 ** Math.floor(random() * 76 - 38);
    };
    for (const size of [0, 1, 3, 5000, 2, 700, 1]) {
      const pairs = new Map<number, number>();
      for (const e of edges.slice(0, Math.min(size, edges.length))) pairs.set(e, weight());
      while (pairs.size < size) pairs.set(Math.floor(random() * 2 ** (random() * 32)), weight());
      const v = createSparseVector([...pairs]);
      const entries = Array.from(v.indices, (i, k) => [String(i), formatFloat32(v.values[k])]);
      expect(toPortableJson(v)).toBe(`[${entries.map(([i, w]) => `[${i},${w}]`).join(',')}]`);
      expect(toOceanBaseLiteral(v)).toBe(`{${entries.map(([i, w]) => `${i}:${w}`).join(',')}}`);
    }
  });

  test('round trips keep large indices and exact float32 weights', () => {
    const weights = [
      Math.fround(0.1),
      1.1754943508222875e-38,
      3.4028234663852886e38,
      -2.5,
      Math.fround(1 / 3),
      Math.fround(1e-7),
      1.401298464324817e-45,
    ];
    const indices = [4_294_967_295, 499_999, 0, 7, 8, 9, 10];
    const v = createSparseVector(indices.map((i, k) => [i, weights[k]] as [number, number]));
    const literal = toOceanBaseLiteral(v);
    const json = toPortableJson(v);
    expect(literal).toBe('{0:3.4028235e+38,7:-2.5,8:0.33333334,9:1e-7,10:1e-45,499999:1.1754944e-38,4294967295:0.1}');
    expect(json).toBe(
      '[[0,3.4028235e+38],[7,-2.5],[8,0.33333334],[9,1e-7],[10,1e-45],[499999,1.1754944e-38],[4294967295,0.1]]',
    );
    for (const back of [parseOceanBaseLiteral(literal), parsePortableJson(json), parsePortableJson(JSON.parse(json))]) {
      expect(Array.from(back.indices)).toEqual([0, 7, 8, 9, 10, 499_999, 4_294_967_295]);
      expect(sparseEquals(back, v)).toBe(true);
      expect(Array.from(back.values)).toEqual(Array.from(v.values));
    }
  });

  test('formatFloat32: for random float32 bit patterns the text reads back exactly and has the fewest digits', () => {
    const next = lcg(2024);
    const wrong: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      const f = float32FromBits(next());
      if (!Number.isFinite(f)) continue;
      const text = formatFloat32(f);
      if (Math.fround(Number(text)) !== (f === 0 ? 0 : f)) wrong.push(`${f} -> ${text} does not read back`);
      else if (f !== 0 && significantDigits(text) !== fewestDigits(f))
        wrong.push(`${f} -> ${text} is not the shortest`);
    }
    expect(wrong).toEqual([]);
    // And short decimals, large integers and subnormals, where a naive "start at 6 digits" would be longer.
    for (const f of [
      0.5,
      0.0625,
      Math.fround(0.3),
      Math.fround(94_186_208),
      Math.fround(9.31345e-41),
      Math.fround(123_456_789),
      16_777_216,
    ]) {
      expect(Math.fround(Number(formatFloat32(f)))).toBe(f);
      expect(significantDigits(formatFloat32(f))).toBe(fewestDigits(f));
    }
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(94_186_208))).toBe('94186210');
  });

  test('formatFloat32 caches per float32: neighbours one bit apart, formatted twice, interleaved, each read back exactly', () => {
    const next = lcg(77);
    const wrong: string[] = [];
    for (let n = 0; n < 2_000; n++) {
      const bits = next() & 0x7f7f_fffe; // finite, positive; its neighbour is bits + 1
      const pair = [float32FromBits(bits), float32FromBits(bits + 1)];
      for (let round = 0; round < 2; round++)
        for (const f of pair) {
          const text = formatFloat32(f);
          if (Math.fround(Number(text)) !== f) wrong.push(`${f} -> ${text} (round ${round})`);
        }
    }
    expect(wrong).toEqual([]);
    // The text forms use the same texts.
    const v = createSparseVector([
      [1, float32FromBits(0x3dcc_cccd)],
      [2, float32FromBits(0x3dcc_ccce)],
    ]);
    expect(toPortableJson(v)).toBe(`[[1,${formatFloat32(v.values[0])}],[2,${formatFloat32(v.values[1])}]]`);
    expect(toOceanBaseLiteral(v)).toBe(`{1:${formatFloat32(v.values[0])},2:${formatFloat32(v.values[1])}}`);
    expect(formatFloat32(v.values[0])).not.toBe(formatFloat32(v.values[1]));
  });
});

describe('sparseDot', () => {
  test('inner product over shared indices', () => {
    const a = createSparseVector([
      [1, 2],
      [5, 3],
      [9, 1],
    ]);
    const b = createSparseVector([
      [5, 4],
      [9, 0.5],
      [10, 7],
    ]);
    expect(sparseDot(a, b)).toBe(12.5);
    expect(sparseDot(b, a)).toBe(12.5);
    expect(sparseDot(a, createSparseVector([]))).toBe(0);
    expect(sparseDot(createSparseVector([[4_294_967_295, 2]]), createSparseVector([[4_294_967_295, 3]]))).toBe(6);
  });

  test('equals the dense dot product on random vectors', () => {
    const next = lcg(7);
    for (let round = 0; round < 200; round++) {
      const make = () => {
        const m = new Map<number, number>();
        const n = next() % 40;
        for (let k = 0; k < n; k++) m.set(next() % 100, ((next() % 2001) - 1000) / 64);
        return m;
      };
      const ma = make();
      const mb = make();
      let dense = 0;
      for (const [i, w] of ma) dense += w * (mb.get(i) ?? 0);
      expect(sparseDot(createSparseVector(ma), createSparseVector(mb))).toBeCloseTo(dense, 9);
    }
  });
});
