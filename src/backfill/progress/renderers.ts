import { redact } from '../../util/redact';
import type { ProgressStyle } from '../options';
import { progressBlock, progressLine } from './format';
import type { BackfillProgress } from './model';

/** Receives progress snapshots and events and shows them. */
export interface ProgressRenderer {
  /** Which renderer this is ('none' shows nothing: the engine then logs what the display would show). */
  readonly kind: 'tty' | 'plain' | 'json' | 'none';
  update(p: BackfillProgress): void;
  event(name: string, data: Record<string, unknown>): void;
  /** Plain text lines (headers, summary). */
  line(text: string): void;
  finish(p: BackfillProgress): void;
}

/** Redrawn in place on a terminal, at most every `intervalMs`. */
class TtyRenderer implements ProgressRenderer {
  readonly kind = 'tty';
  private drawn = 0;
  private last = 0;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly intervalMs = 200,
  ) {}
  update(p: BackfillProgress): void {
    if (Date.now() - this.last < this.intervalMs) return;
    this.draw(p);
  }
  private draw(p: BackfillProgress): void {
    this.last = Date.now();
    const lines = progressBlock(p);
    // Cursor up over the previous block, clear from there down (the block may have shrunk), redraw.
    const up = this.drawn ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    this.out.write(up + lines.map((l) => `\x1b[2K${l}`).join('\n') + '\n');
    this.drawn = lines.length;
  }
  event(): void {}
  line(text: string): void {
    this.drawn = 0;
    this.out.write(redact(text) + '\n');
  }
  finish(p: BackfillProgress): void {
    this.draw(p);
    this.drawn = 0;
  }
}

/** For logs and CI: one line every `intervalMs`, and one at the end. */
class PlainRenderer implements ProgressRenderer {
  readonly kind = 'plain';
  private last = Date.now();
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly intervalMs: number,
  ) {}
  update(p: BackfillProgress): void {
    if (Date.now() - this.last < this.intervalMs) return;
    this.last = Date.now();
    this.out.write(progressLine(p) + '\n');
  }
  event(): void {}
  line(text: string): void {
    this.out.write(redact(text) + '\n');
  }
  finish(p: BackfillProgress): void {
    this.out.write(progressLine(p) + '\n');
  }
}

/** One JSON object per line: {"event":"progress",...}. */
class JsonRenderer implements ProgressRenderer {
  readonly kind = 'json';
  private last = 0;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly intervalMs: number,
  ) {}
  private write(obj: Record<string, unknown>): void {
    this.out.write(redact(JSON.stringify(obj)) + '\n');
  }
  update(p: BackfillProgress): void {
    if (Date.now() - this.last < this.intervalMs) return;
    this.last = Date.now();
    this.write({ event: 'progress', ...p });
  }
  event(name: string, data: Record<string, unknown>): void {
    this.write({ event: name, ...data });
  }
  line(): void {}
  finish(p: BackfillProgress): void {
    this.write({ event: 'progress', ...p });
  }
}

class NoRenderer implements ProgressRenderer {
  readonly kind = 'none';
  update(): void {}
  event(): void {}
  line(): void {}
  finish(): void {}
}

export function createRenderer(
  style: ProgressStyle,
  out: NodeJS.WritableStream,
  intervalSeconds = 5,
): ProgressRenderer {
  const resolved = style === 'auto' ? ((out as NodeJS.WriteStream).isTTY ? 'tty' : 'plain') : style;
  switch (resolved) {
    case 'tty':
      return new TtyRenderer(out);
    case 'plain':
      return new PlainRenderer(out, intervalSeconds * 1000);
    case 'json':
      return new JsonRenderer(out, Math.min(1000, intervalSeconds * 1000));
    default:
      return new NoRenderer();
  }
}
