import { CJK_STOPWORDS, ENGLISH_STOPWORDS } from './stopwords';

/**
 * Tokenisation of the local embedder (specified in docs/embedders.md; it is part of the meaning of the
 * stored local vectors, so changing it means a new model name):
 *
 * 1. NFKC, then toLowerCase (full-width ＡＢＣ -> abc, ligatures and compatibility forms folded).
 * 2. Text that contains a character of a script written without spaces (Han, kana, Hangul, Thai, Lao,
 *    Khmer, Myanmar) is split into words by one shared Intl.Segmenter (granularity "word", ICU's
 *    dictionary segmentation), keeping the segments whose isWordLike is true. Other text skips ICU: its
 *    words are exactly what step 3 finds, so both paths agree on non-CJK words.
 * 3. Non-ideographic words: maximal runs of letters, marks and digits (with inner apostrophes, ’ read as
 *    '), a trailing possessive 's removed, English stopwords dropped, then a light English suffix
 *    stripper (stem below). Weight 1.
 * 4. Ideographic words (Han, kana, Hangul): the word (weight 1) unless it is a CJK stopword; for words of
 *    2+ characters also each Han/Hangul character that is not a stopword (CJK_CHAR_WEIGHT), so that
 *    partial and differently segmented matches still score. (Character bigrams were measured too and
 *    did not change the retrieval results, so they are not added; see docs/embedders.md.)
 */
export const CJK_CHAR_WEIGHT = 0.5;

/** Receives each term and its weight, in text order. */
export type TermSink = (term: string, weight: number) => void;

export interface Term {
  term: string;
  weight: number;
}

/** Created once: constructing a segmenter costs far more than using it. */
const segmenter = new Intl.Segmenter('und', { granularity: 'word' });

const NEEDS_SEGMENTER =
  /[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u{20000}-\u{3134f}]/u;
const IDEOGRAPHIC = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u{20000}-\u{3134f}]/u;
/** Characters that become terms of their own: Han and Hangul syllables (not kana, which spell sounds). */
const MEANINGFUL_CHAR = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u{20000}-\u{3134f}]$/u;
const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:['’][\p{L}\p{M}\p{N}]+)*/gu;
const ASCII_LOWER = /^[a-z]+$/;
const ASCII_ONLY = /^[\x00-\x7f]*$/;
const VOWEL = /[aeiouy]/;

function undouble(stem: string): string {
  const n = stem.length;
  const last = stem[n - 1];
  return n > 2 && last === stem[n - 2] && !'aeiouylsz'.includes(last) ? stem.slice(0, -1) : stem;
}

/**
 * Light English suffix stripping, applied to ASCII words of 4+ letters:
 * -ies -> -y; -eed kept; -ing / -ed removed when what remains has a vowel (then a doubled final
 * consonant other than l, s, z is undoubled: running -> run); -sses/-xes/-ches/-shes/-zes -> drop "es";
 * -s removed unless the word ends in -ss, -us or -is.
 */
export function stem(word: string): string {
  if (word.length <= 3 || !ASCII_LOWER.test(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return word.slice(0, -3) + 'y';
  if (word.endsWith('eed')) return word;
  if (word.endsWith('ing') && word.length > 5 && VOWEL.test(word.slice(0, -3))) return undouble(word.slice(0, -3));
  if (word.endsWith('ed') && word.length > 4 && VOWEL.test(word.slice(0, -2))) return undouble(word.slice(0, -2));
  if (word.endsWith('es') && /(?:ss|x|ch|sh|z)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function addWords(text: string, sink: TermSink): void {
  for (const m of text.matchAll(WORD)) {
    let word = m[0];
    if (word.includes('’')) word = word.replace(/’/g, "'");
    if (word.endsWith("'s")) word = word.slice(0, -2);
    if (!ENGLISH_STOPWORDS.has(word)) sink(stem(word), 1);
  }
}

function addIdeographic(word: string, sink: TermSink): void {
  if (CJK_STOPWORDS.has(word)) return;
  sink(word, 1);
  const chars = Array.from(word);
  if (chars.length < 2) return;
  for (const ch of chars) if (MEANINGFUL_CHAR.test(ch) && !CJK_STOPWORDS.has(ch)) sink(ch, CJK_CHAR_WEIGHT);
}

/** Feed every term of `text` to `sink` (the allocation-free form used by the embedder). */
export function forEachTerm(text: string, sink: TermSink): void {
  // NFKC leaves ASCII as it is: skip it for the (common) pure-ASCII text.
  const normalised = (ASCII_ONLY.test(text) ? text : text.normalize('NFKC')).toLowerCase();
  if (!NEEDS_SEGMENTER.test(normalised)) {
    addWords(normalised, sink);
    return;
  }
  for (const seg of segmenter.segment(normalised)) {
    if (!seg.isWordLike) continue;
    if (IDEOGRAPHIC.test(seg.segment)) addIdeographic(seg.segment, sink);
    else addWords(seg.segment, sink);
  }
}

/** The terms of `text` with their weights, in text order (for tests and inspection). */
export function tokenize(text: string): Term[] {
  const out: Term[] = [];
  forEachTerm(text, (term, weight) => out.push({ term, weight }));
  return out;
}
