import { redact } from '../../util/redact';
import type { ProgressStyle } from '../options';
import { progressBlock, progressLine } from './format';
import type { BackfillProgress } from './model';
import { fitWidth } from './width';

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

/** Redrawn in place on a terminal, at most every `intervalMs`; each line fits the terminal's width. */
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
    // A line as wide as the terminal would wrap, and the cursor-up below would then miss a row: cut each
    // line to columns - 1, and clear the rest of the row (the previous frame may have been longer).
    const columns = Math.max(10, ((this.out as NodeJS.WriteStream).columns || 80) - 1);
    const lines = progressBlock(p, columns).map((l) => fitWidth(l, columns));
    // Cursor up over the previous block, clear from there down (the block may have shrunk), redraw.
    const up = this.drawn ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    this.out.write(up + lines.map((l) => `\x1b[2K${l}\x1b[K`).join('\n') + '\n');
    this.drawn = lines.length;
  }
  event(): void {}
  line(text: string): void {
    this.drawn = 0;
    this.out.write(redact(text) + '\n');
  }
  finish(p: BackfillProgress): void {
    // After a stop, other lines (the signal's message, "^C") may sit below the last frame: draw the final
    // frame anew below them rather than over them, so that it is whole.
    if (p.processed < p.total) this.drawn = 0;
    this.draw(p);
    this.drawn = 0;
  }
}

/**
 * For logs and CI: one line every `intervalMs`, and one at the end. With a `prefix` (a shard's "[shard 1/3] ")
 * every non-empty line carries it, so that several processes can share one terminal or log.
 */
class PlainRenderer implements ProgressRenderer {
  readonly kind = 'plain';
  private last = Date.now();
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly intervalMs: number,
    private readonly prefix = '',
  ) {}
  private write(text: string): void {
    this.out.write((text ? this.prefix + text : text) + '\n');
  }
  update(p: BackfillProgress): void {
    if (Date.now() - this.last < this.intervalMs) return;
    this.last = Date.now();
    this.write(progressLine(p));
  }
  event(): void {}
  line(text: string): void {
    this.write(redact(text));
  }
  finish(p: BackfillProgress): void {
    this.write(progressLine(p));
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

/**
 * The renderer for a style. `auto` redraws in place on a terminal, except for a shard (`shard` given): shards
 * usually run side by side on one terminal (`--shard 0/3 & --shard 1/3 & ...`), where redrawn blocks would
 * overwrite each other, so they print plain lines prefixed with "[shard i/n] ".
 */
export function createRenderer(
  style: ProgressStyle,
  out: NodeJS.WritableStream,
  intervalSeconds = 5,
  shard?: { index: number; count: number },
): ProgressRenderer {
  const resolved = style === 'auto' ? ((out as NodeJS.WriteStream).isTTY && !shard ? 'tty' : 'plain') : style;
  switch (resolved) {
    case 'tty':
      return new TtyRenderer(out);
    case 'plain':
      return new PlainRenderer(out, intervalSeconds * 1000, shard ? `[shard ${shard.index}/${shard.count}] ` : '');
    case 'json':
      return new JsonRenderer(out, Math.min(1000, intervalSeconds * 1000));
    default:
      return new NoRenderer();
  }
}
