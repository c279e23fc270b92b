import { CJK_STOPWORDS, ENGLISH_STOPWORDS } from './stopwords';
import { stem } from './stem';

export { stem } from './stem';

/**
 * Tokenisation of the local embedder, model `bm25-fnv1a-v2` (specified in docs/embedders.md; it is part
 * of the meaning of the stored local vectors, so changing it means a new model version):
 *
 * 1. Text with any non-ASCII character: NFKC, then toLowerCase (full-width ＡＢＣ -> abc, ligatures and
 *    compatibility forms folded). ASCII text: toLowerCase only (NFKC leaves ASCII unchanged).
 * 2. One scan over the text, character by character (no regular expression, no dictionary):
 *    - words: maximal runs of letters, marks and digits (a word starts with a letter or digit), with inner
 *      apostrophes (’ read as '); a trailing possessive 's removed, English stopwords dropped, then the
 *      light English suffix stripper (stem.ts). Weight 1.
 *    - runs of characters of scripts written without spaces (Han, kana, Hangul, Thai, Lao, Khmer,
 *      Myanmar): overlapping character bigrams, as Lucene's CJK analyzer does (a run of one character is
 *      a unigram), weight 1, except bigrams that are CJK stopwords or made of two single-character
 *      stopwords; plus each Han or Hangul character that is not a stopword, at CJK_CHAR_WEIGHT, so that
 *      single-character queries and partial matches still score.
 * 3. The text's length for BM25, in words: 1 per word kept, 1/2 per character of a bigram run.
 */
export const CJK_CHAR_WEIGHT = 0.25;

/**
 * Receives each term, in text order, as `text.slice(start, end)` (the slice is not made: the embedder
 * hashes the range), and its weight.
 */
export type TermSink = (text: string, start: number, end: number, weight: number) => void;

export interface Term {
  term: string;
  weight: number;
}

const OTHER = 0;
/** Letter or digit (starts or continues a word). */
const WORD = 1;
/** Combining mark (continues a word, never starts one). */
const MARK = 2;
/** Han or Hangul: bigrams, and a unigram of its own. */
const IDEOGRAPH = 3;
/** Kana, Thai, Lao, Khmer, Myanmar: bigrams only (their single characters spell sounds). */
const SYLLABLE = 4;
const APOSTROPHE = 5;
const UNKNOWN = 255;

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const COMBINING_MARK = /\p{M}/u;

/** Character classes of the Basic Multilingual Plane, filled on first sight of each character. */
const bmpClass = new Uint8Array(0x10000).fill(UNKNOWN);

function classify(cp: number): number {
  if (cp < 0x80) {
    if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39)) return WORD;
    return cp === 0x27 ? APOSTROPHE : OTHER;
  }
  if (cp === 0x2019) return APOSTROPHE;
  if (
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xac00 && cp <= 0xd7af) ||
    (cp >= 0x20000 && cp <= 0x3134f)
  ) {
    return IDEOGRAPH;
  }
  if (
    (cp >= 0x3040 && cp <= 0x30ff) ||
    (cp >= 0x0e00 && cp <= 0x0eff) ||
    (cp >= 0x1000 && cp <= 0x109f) ||
    (cp >= 0x1780 && cp <= 0x17ff)
  )
    return SYLLABLE;
  const ch = String.fromCodePoint(cp);
  if (LETTER_OR_DIGIT.test(ch)) return WORD;
  return COMBINING_MARK.test(ch) ? MARK : OTHER;
}

function classAt(cp: number): number {
  if (cp > 0xffff) return classify(cp);
  let c = bmpClass[cp];
  if (c === UNKNOWN) c = bmpClass[cp] = classify(cp);
  return c;
}

/** The code point at i (a lone surrogate stands for itself: it is classified OTHER). */
function codePointAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= text.length) return c;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff ? ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000 : c;
}

function continuesWord(cls: number): boolean {
  return cls === WORD || cls === MARK;
}

/** Lower case, and NFKC for text with a non-ASCII character. */
function normalise(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return text.normalize('NFKC').toLowerCase();
  }
  return text.toLowerCase();
}

/** Emits the word text.slice(start, end); returns 1 if it is a term (counts in the length), else 0. */
function emitWord(text: string, start: number, end: number, apostrophe: boolean, sink: TermSink): number {
  let word = text.slice(start, end);
  if (apostrophe) {
    if (word.includes('’')) word = word.replace(/’/g, "'");
    const n = word.length;
    if (n > 2 && word.charCodeAt(n - 1) === 0x73 && word.charCodeAt(n - 2) === 0x27) word = word.slice(0, -2);
  }
  if (ENGLISH_STOPWORDS.has(word)) return 0;
  const term = stem(word);
  sink(term, 0, term.length, 1);
  return 1;
}

/** BMP characters that are CJK stopwords on their own, and first characters of two-character stopwords. */
const stopChar = new Uint8Array(0x10000);
const stopPairStart = new Uint8Array(0x10000);
for (const w of CJK_STOPWORDS) {
  if (w.length === 1) stopChar[w.charCodeAt(0)] = 1;
  else if (w.length === 2) stopPairStart[w.charCodeAt(0)] = 1;
}

/** A CJK stopword, or a bigram of two single-character stopwords (的是, 了吗: function words only). */
function isStopword(text: string, start: number, end: number): boolean {
  const c = text.charCodeAt(start);
  if (end - start === 1) return stopChar[c] === 1;
  if (end - start !== 2) return false;
  if (stopChar[c] === 1 && stopChar[text.charCodeAt(start + 1)] === 1) return true;
  return stopPairStart[c] === 1 && CJK_STOPWORDS.has(text.slice(start, end));
}

/** Ends of the characters of a run, reused across calls (a run longer than this is cut in pieces). */
const runEnds = new Int32Array(4096);
const runIdeograph = new Uint8Array(4096);

function emitRun(text: string, start: number, count: number, sink: TermSink): void {
  if (count === 1) {
    if (!isStopword(text, start, runEnds[0])) sink(text, start, runEnds[0], 1);
    return;
  }
  let from = start;
  for (let k = 0; k + 1 < count; k++) {
    if (!isStopword(text, from, runEnds[k + 1])) sink(text, from, runEnds[k + 1], 1);
    from = runEnds[k];
  }
  from = start;
  for (let k = 0; k < count; k++) {
    if (runIdeograph[k] && !isStopword(text, from, runEnds[k])) sink(text, from, runEnds[k], CJK_CHAR_WEIGHT);
    from = runEnds[k];
  }
}

/**
 * Feed every term of `text` to `sink`, in text order (the allocation-light form used by the embedder).
 * Returns the text's length for BM25 in words: 1 per word kept (stopwords don't count), 1/2 per character
 * of a bigram run (a Chinese word has about two characters), so that a text and its translation have
 * about the same length whatever the number of bigrams and character terms.
 */
export function forEachTerm(input: string, sink: TermSink): number {
  const text = normalise(input);
  const n = text.length;
  let length = 0;
  let i = 0;
  while (i < n) {
    const cp = codePointAt(text, i);
    const cls = classAt(cp);
    if (cls === WORD) {
      const start = i;
      let apostrophe = false;
      i += cp > 0xffff ? 2 : 1;
      while (i < n) {
        const c = codePointAt(text, i);
        const k = classAt(c);
        if (k === WORD || k === MARK) i += c > 0xffff ? 2 : 1;
        else if (k === APOSTROPHE && i + 1 < n && continuesWord(classAt(codePointAt(text, i + 1)))) {
          apostrophe = true;
          i++;
        } else break;
      }
      length += emitWord(text, start, i, apostrophe, sink);
    } else if (cls === IDEOGRAPH || cls === SYLLABLE) {
      const start = i;
      let count = 0;
      let c = cp;
      let k = cls;
      do {
        i += c > 0xffff ? 2 : 1;
        runEnds[count] = i;
        runIdeograph[count] = k === IDEOGRAPH ? 1 : 0;
        count++;
        if (i >= n || count === runEnds.length) break;
        c = codePointAt(text, i);
        k = classAt(c);
      } while (k === IDEOGRAPH || k === SYLLABLE);
      emitRun(text, start, count, sink);
      length += count / 2;
    } else {
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return length;
}

/** The terms of `text` with their weights, in text order (for tests and inspection). */
export function tokenize(text: string): Term[] {
  const out: Term[] = [];
  forEachTerm(text, (t, start, end, weight) => out.push({ term: t.slice(start, end), weight }));
  return out;
}
