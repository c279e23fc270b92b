import { createEmbedder, LocalSparseEmbedder } from '../../src/embedders';
import { embedderConfigFromEnv } from '../../src/embedders/config';
import { fnv1a32, termIndex } from '../../src/embedders/local/hash';
import { tokenize } from '../../src/embedders/local/tokenize';
import { sparseDot, SPARSE_INDEX_LIMIT } from '../../src/sparse/sparse-vector';
import { memories, queries } from '../fixtures/retrieval-set';

/** An independent FNV-1a over Buffer's UTF-8 encoding, to cross-check the in-place encoder. */
function referenceFnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

describe('local embedder: hash', () => {
  test('published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  test('UTF-8 encoding matches Buffer for ASCII, CJK, emoji and lone surrogates', () => {
    for (const s of ['memory', 'café', '花生', '寿司が大好き', '😀 rocket 🚀', 'a\ud800b']) expect(fnv1a32(s)).toBe(referenceFnv1a(s));
  });

  test('pinned term indices: the same term keeps its index across versions', () => {
    // Golden values: changing them changes the meaning of every stored local vector.
    expect(['peanut', '花生', 'memory', '寿司'].map((t) => termIndex(t, 500_000))).toEqual([376944, 328138, 424270, 161934]);
    expect(termIndex('a', 500_000)).toBe(0xe40c292c % 500_000);
  });
});

describe('local embedder: tokens and weights', () => {
  test('segments Chinese and Japanese, folds case and width, drops stopwords, strips plural s', () => {
    const terms = (t: string) => tokenize(t).map((x) => x.term);
    expect(terms('The Peanuts and the PEANUT')).toEqual(['peanut', 'peanut']);
    expect(terms('用户对花生过敏')).toEqual(expect.arrayContaining(['花生', '过敏']));
    expect(terms('用户对花生过敏')).not.toContain('用户');
    expect(terms('ＡＢＣ')).toEqual(['abc']);
    expect(terms('寿司が大好き').length).toBeGreaterThan(1);
  });

  test('deterministic, within [0, 500000) by default, and a configurable index space', async () => {
    const e = new LocalSparseEmbedder();
    const [a, b] = await e.embedDocuments(['Biscuit the golden retriever', 'Biscuit the golden retriever']);
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(Math.max(...a.indices)).toBeLessThan(SPARSE_INDEX_LIMIT);
    const small = new LocalSparseEmbedder({ indexSpace: 1000 });
    expect(small.maxIndex).toBe(999);
    expect(Math.max(...(await small.embedQuery('many different words in this sentence')).indices)).toBeLessThan(1000);
  });

  test('BM25 saturation: repeating a term raises its weight less and less; longer documents weigh a term less', () => {
    const e = new LocalSparseEmbedder();
    const w = (text: string) => {
      const v = e.embed(text, 'document');
      return v.values[Array.from(v.indices).indexOf(termIndex('cello', 500_000))];
    };
    const one = w('cello');
    const two = w('cello cello');
    const three = w('cello cello cello');
    expect(two).toBeGreaterThan(one);
    expect(three - two).toBeLessThan(two - one);
    expect(w('cello practice every evening with the teacher downtown')).toBeLessThan(one);
  });

  test('SPARSE_EMBEDDER_PROVIDER unset -> the local provider', () => {
    const e = createEmbedder(embedderConfigFromEnv({}));
    expect(e).toBeInstanceOf(LocalSparseEmbedder);
    expect(e.provider).toBe('local');
  });

  test('retrieval set: the relevant memory ranks first for most queries (in memory)', async () => {
    const e = new LocalSparseEmbedder();
    const docs = await e.embedDocuments(memories.map((m) => m.text));
    let hits = 0;
    for (const q of queries) {
      const qv = await e.embedQuery(q.query);
      const best = memories.map((m, i) => ({ id: m.id, s: sparseDot(qv, docs[i]) })).sort((a, b) => b.s - a.s)[0];
      if (best.id === q.relevantId) hits++;
    }
    const rate = hits / queries.length;
    // eslint-disable-next-line no-console
    console.log(`local embedder top-1 hit rate: ${hits}/${queries.length} = ${(rate * 100).toFixed(0)}%`);
    expect(rate).toBeGreaterThanOrEqual(0.75);
  });
});
