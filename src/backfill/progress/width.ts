/**
 * Terminal columns a string takes, conservatively: emoji, CJK and the clock/pause symbols count 2 (some
 * terminals draw them narrow; counting them wide only shortens a line), everything else 1.
 */
function charWidth(cp: number): number {
  if (cp < 0x1100) return 1;
  if (cp === 0x23f1 || cp === 0x23f8) return 2; // ⏱ ⏸
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3)) return 2;
  if (
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6)
  )
    return 2;
  if (cp >= 0x1f000) return 2;
  return 1;
}

export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** `text` cut to at most `columns` terminal columns. */
export function fitWidth(text: string, columns: number): string {
  let w = 0;
  let out = '';
  for (const ch of text) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > columns) break;
    w += cw;
    out += ch;
  }
  return out;
}
