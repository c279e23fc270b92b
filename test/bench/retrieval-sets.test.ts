import { rankOf, scoreRanks } from '../../bench/retrieval-metrics';
import { retrievalSets } from '../../bench/retrieval-sets';

describe('retrieval sets of npm run eval', () => {
  test.each(retrievalSets().map((s) => [s.name, s] as const))(
    '%s: every query names a document of the set, ids are unique, no query twice',
    (_name, set) => {
      const ids = new Set(set.documents.map((d) => d.id));
      expect(ids.size).toBe(set.documents.length);
      for (const q of set.queries) expect(ids.has(q.relevantId)).toBe(true);
      expect(new Set(set.queries.map((q) => q.query.toLowerCase())).size).toBe(set.queries.length);
      for (const d of set.documents) expect(d.text.trim()).not.toBe('');
    },
  );

  test('top-1 and MRR@10 from ranks: rank 1 counts for both, ranks past 10 and misses count 0', () => {
    expect(scoreRanks([1, 2, 11, undefined])).toEqual({ queries: 4, top1: 1, mrr10: (1 + 0.5) / 4 });
    expect(rankOf(['5', '7', '9'], 7)).toBe(2);
    expect(rankOf(['5'], 7)).toBeUndefined();
  });
});
