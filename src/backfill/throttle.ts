import type { Knex } from 'knex';
import type { BackfillEmitter } from './events';
import type { ProgressTracker } from './progress/model';
import { withDbRetry } from './retry';
import { pause } from '../util/sleep';

/**
 * Adaptive batch size: after each batch, the size that would take `targetMs` at the rate that batch was
 * processed, moving at most by half or double per batch, between 1 and the configured batch size. Without a
 * target the size stays fixed.
 */
export class BatchSize {
  constructor(
    public current: number,
    private readonly max: number,
    private readonly targetMs: number | undefined,
    private readonly tracker: ProgressTracker,
  ) {}

  /** Record that a batch of `rows` rows took `tookMs`. */
  observe(rows: number, tookMs: number): void {
    if (!this.targetMs) return;
    const ideal = (this.targetMs * rows) / Math.max(1, tookMs);
    const next = Math.round(Math.min(this.current * 2, Math.max(this.current / 2, ideal)));
    this.current = Math.max(1, Math.min(this.max, next));
    this.tracker.batchSize = this.current;
  }
}

/**
 * Throttle: wait while the server runs more than `threshold` threads (SHOW GLOBAL STATUS Threads_running),
 * checking every second; the pause and the resume are events, and the progress shows the run as paused.
 */
export async function waitForQuietServer(
  knex: Knex,
  threshold: number,
  signal: AbortSignal | undefined,
  events: BackfillEmitter,
  tracker: ProgressTracker,
): Promise<void> {
  let paused = false;
  try {
    for (;;) {
      const running = await threadsRunning(knex);
      if (running === undefined || running <= threshold || signal?.aborted) return;
      if (!paused) {
        paused = true;
        tracker.paused = true;
        events.emit('paused', { threadsRunning: running, threshold });
        events.emit('progress', tracker.snapshot());
      }
      await pause(1000, signal);
    }
  } finally {
    if (paused) {
      tracker.paused = false;
      events.emit('resumed', { threshold });
      events.emit('progress', tracker.snapshot());
    }
  }
}

/** The server's Threads_running, or undefined when it does not report it (then there is no throttle). */
async function threadsRunning(knex: Knex): Promise<number | undefined> {
  const [rows] = (await withDbRetry(() => knex.raw("SHOW GLOBAL STATUS LIKE 'Threads_running'"))) as [
    Array<{ Value?: string; value?: string }>,
  ];
  const value = rows[0]?.Value ?? rows[0]?.value;
  return value === undefined ? undefined : Number(value);
}
