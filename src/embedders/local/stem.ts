/**
 * Light English suffix stripping of the local embedder, applied to words of 4+ lower-case ASCII letters
 * (others are returned as they are):
 * -ies -> -y; -eed kept; -ing / -ed removed when what remains has a vowel (then a doubled final consonant
 * other than l, s, z is undoubled: running -> run); -sses/-xes/-ches/-shes/-zes -> drop "es"; -s removed
 * unless the word ends in -ss, -us or -is. Written with character codes: it runs for every word.
 */
const a = 0x61;
const z = 0x7a;

function isLowerAscii(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < a || c > z) return false;
  }
  return true;
}

/** a e i o u y */
function isVowel(c: number): boolean {
  return c === 0x61 || c === 0x65 || c === 0x69 || c === 0x6f || c === 0x75 || c === 0x79;
}

function hasVowel(word: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (isVowel(word.charCodeAt(i))) return true;
  return false;
}

/** word.slice(0, end), with a doubled final consonant other than l, s, z undoubled. */
function undoubled(word: string, end: number): string {
  const last = word.charCodeAt(end - 1);
  if (end > 2 && last === word.charCodeAt(end - 2) && !isVowel(last) && last !== 0x6c && last !== 0x73 && last !== 0x7a)
    return word.slice(0, end - 1);
  return word.slice(0, end);
}

function endsWith(word: string, suffix: string): boolean {
  return word.endsWith(suffix);
}

export function stem(word: string): string {
  const n = word.length;
  if (n <= 3 || !isLowerAscii(word)) return word;
  const last = word.charCodeAt(n - 1);
  if (last === 0x73 /* s */) {
    if (n > 4 && endsWith(word, 'ies')) return word.slice(0, -3) + 'y';
    if (
      word.charCodeAt(n - 2) === 0x65 /* e */ &&
      (endsWith(word, 'sses') ||
        endsWith(word, 'xes') ||
        endsWith(word, 'ches') ||
        endsWith(word, 'shes') ||
        endsWith(word, 'zes'))
    ) {
      return word.slice(0, -2);
    }
    const prev = word.charCodeAt(n - 2);
    if (prev === 0x73 || prev === 0x75 || prev === 0x69) return word; // -ss, -us, -is
    return word.slice(0, -1);
  }
  if (last === 0x67 /* g */ && n > 5 && endsWith(word, 'ing') && hasVowel(word, n - 3)) return undoubled(word, n - 3);
  if (last === 0x64 /* d */ && word.charCodeAt(n - 2) === 0x65) {
    if (endsWith(word, 'eed')) return word;
    if (n > 4 && hasVowel(word, n - 2)) return undoubled(word, n - 2);
  }
  return word;
}
