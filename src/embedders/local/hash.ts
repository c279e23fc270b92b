/**
 * The term hash of the local embedder: 32-bit FNV-1a over the term's UTF-8 bytes, then modulo the index
 * space (specified in docs/embedders.md, pinned by tests). It is part of the stored vectors' meaning:
 * never change it; a new scheme needs a new model name (LOCAL_MODEL) and a re-embedding.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a32(text: string): number {
  return fnv1a32Range(text, 0, text.length);
}

/** fnv1a32(text.slice(start, end)) without making the slice (a surrogate pair cut by `end` counts as lone). */
export function fnv1a32Range(text: string, start: number, end: number): number {
  return fnv1a32Signed(text, start, end) >>> 0;
}

/**
 * termIndex(text.slice(start, end), indexSpace) without making the slice. The hash travels between the two
 * functions as a signed 32-bit integer, which V8 keeps unboxed (an unsigned one above 2^31 would be a heap
 * number: one allocation per term, 7% of a backfill's allocation on the short mix).
 */
export function termIndexRange(text: string, start: number, end: number, indexSpace: number): number {
  return (fnv1a32Signed(text, start, end) >>> 0) % indexSpace;
}

/** The FNV-1a state as a signed 32-bit integer (its bits are the hash). */
function fnv1a32Signed(text: string, start: number, end: number): number {
  let h = FNV_OFFSET | 0;
  for (let i = start; i < end; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < end) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
        i++; // surrogate pair consumed
      }
    }
    // UTF-8 encode the code point, byte by byte.
    if (cp < 0x80) {
      h = Math.imul(h ^ cp, FNV_PRIME);
    } else if (cp < 0x800) {
      h = Math.imul(h ^ (0xc0 | (cp >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    } else if (cp < 0x10000) {
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate: encoded as U+FFFD, as TextEncoder does
      h = Math.imul(h ^ (0xe0 | (cp >> 12)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    }
  }
  return h | 0;
}

/** The sparse index of a term: fnv1a32(utf8(term)) mod indexSpace. */
export function termIndex(term: string, indexSpace: number): number {
  return termIndexRange(term, 0, term.length, indexSpace);
}
