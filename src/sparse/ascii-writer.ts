/**
 * Writes an ASCII text byte by byte into one reused buffer, then reads it back as a single string. The
 * encoders of sparse vectors use it: the backfill encodes every row it writes, and building the text by one
 * concatenation per entry allocated ~8 kB of short-lived strings per row (V8's sampling heap profiler: over
 * half of the backfill process's allocation), whose collection took ~25% of that process's CPU.
 * Synchronous use only (one text at a time per thread).
 */
export class AsciiWriter {
  private buf = Buffer.allocUnsafe(4096);
  private pos = 0;

  /** Start a new text of at most `maxBytes` bytes. */
  start(maxBytes: number): void {
    if (this.buf.length < maxBytes) this.buf = Buffer.allocUnsafe(Math.max(maxBytes, this.buf.length * 2));
    this.pos = 0;
  }

  /** One character, by its code (ASCII). */
  char(code: number): void {
    this.buf[this.pos++] = code;
  }

  /** A whole number 0 <= n < 2^32, in decimal. */
  uint(n: number): void {
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    const end = this.pos + digits;
    let i = end;
    do {
      this.buf[--i] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    this.pos = end;
  }

  /** An ASCII string, as it is. */
  text(s: string): void {
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }

  /** The text written since start(). */
  done(): string {
    return this.buf.toString('latin1', 0, this.pos);
  }
}
