/**
 * Unicode-aware tokenisation for the local embedder: NFKC + lower case; runs of CJK characters (Han, kana,
 * Hangul) are split into words by Intl.Segmenter (ICU's dictionary segmentation), everything else into
 * words by WORD below (letters and digits, with inner apostrophes); then stopwords, a light English
 * suffix stripper, and, for CJK words, their single characters as extra (weaker) terms so partial matches
 * still count. This definition is part of the stored vectors' meaning: do not change it.
 */
const segmenter = new Intl.Segmenter('und', { granularity: 'word' });

const EN_STOPWORDS = new Set(
  ('a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours yourself yourselves also been being get got user users s t don didn doesn ll ve re m d')
    .split(' '),
);

const ZH_STOPWORDS = new Set(
  '的 了 是 在 和 与 及 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 有 也 就 都 而 之 与 或 一个 吗 呢 吧 啊 么 什么 怎么 为 对 把 被 让 给 着 过 要 会 能 很 还 又 并 等 以 于 其 该 此 从 到 上 下 中 用户'.split(' '),
);

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/;
const CJK_RUNS = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+/g;
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

export interface Term {
  term: string;
  /** 1 for whole words, less for CJK single characters. */
  weight: number;
}

export const CJK_CHAR_WEIGHT = 0.5;

function stem(word: string): string {
  if (word.length <= 3 || !/^[a-z]+$/.test(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return word.slice(0, -3) + 'y';
  if (word.endsWith('ing') && word.length > 5) return word.slice(0, -3);
  if (word.endsWith('ed') && word.length > 4) return word.slice(0, -2);
  if (word.endsWith('es') && /(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

function addWords(text: string, out: Term[]): void {
  for (const m of text.matchAll(WORD)) {
    const word = m[0];
    if (!EN_STOPWORDS.has(word)) out.push({ term: stem(word), weight: 1 });
  }
}

function addCjkRun(run: string, out: Term[]): void {
  for (const seg of segmenter.segment(run)) {
    if (!seg.isWordLike) continue;
    const word = seg.segment;
    if (!ZH_STOPWORDS.has(word)) out.push({ term: word, weight: 1 });
    const chars = Array.from(word);
    if (chars.length > 1) {
      for (const ch of chars) if (CJK.test(ch) && !ZH_STOPWORDS.has(ch)) out.push({ term: ch, weight: CJK_CHAR_WEIGHT });
    }
  }
}

export function tokenize(text: string, out: Term[] = []): Term[] {
  const normalised = text.normalize('NFKC').toLowerCase();
  let last = 0;
  for (const m of normalised.matchAll(CJK_RUNS)) {
    if (m.index! > last) addWords(normalised.slice(last, m.index), out);
    addCjkRun(m[0], out);
    last = m.index! + m[0].length;
  }
  if (last < normalised.length) addWords(normalised.slice(last), out);
  return out;
}
