import type { BackfillProgress } from './model';

export const n = (x: number): string => Math.round(x).toLocaleString('en-US');

/** 95 ms -> "0.1s", 222 s -> "3m 42s", 4000 s -> "1h 6m". */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s - m * 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function percent(p: BackfillProgress): number {
  return p.total > 0 ? (100 * p.processed) / p.total : 100;
}

export function bar(p: BackfillProgress, width = 30): string {
  const filled = Math.min(width, Math.round((percent(p) / 100) * width));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** "~3m 42s" while running; after a run that ended with rows left (stopped, failed): how many, not a time. */
function remaining(p: BackfillProgress): string {
  const left = p.total - p.processed;
  if (p.done && left > 0) return `${n(left)} rows (run again to continue)`;
  return `~${duration(p.remainingMs)}`;
}

/**
 * The guide's block: bar, counts, time and rate, and one line per worker when there are several. With
 * `columns`, the bar shrinks (down to 5 cells) so that the first line fits.
 */
export function progressBlock(p: BackfillProgress, columns?: number): string[] {
  const counts = `] ${percent(p).toFixed(1).padStart(5)}% | ${n(p.processed)}/${n(p.total)}`;
  const width = columns === undefined ? 30 : Math.max(5, Math.min(30, columns - 'Total: ['.length - counts.length));
  const lines = [
    `Total: [${bar(p, width)}${counts}`,
    `  ✓ Migrated: ${n(p.migrated)} | ✗ Failed: ${n(p.failed)}${p.changed ? ` | ↷ Changed meanwhile: ${n(p.changed)}` : ''}`,
    `  ⏱ Elapsed: ${duration(p.elapsedMs)} | Remaining: ${remaining(p)} | 📊 ${p.recordsPerSecond.toFixed(1)} rec/s`,
  ];
  if (p.paused) lines.push('  ⏸ Paused: the server is busy (Threads_running above the limit)');
  if (p.workers.length > 1) {
    lines.push('', `Workers (${p.workers.length}):`);
    p.workers.forEach((w, i) => lines.push(`  Worker ${i}: ✓ ${n(w.migrated)} | ✗ ${n(w.failed)}`));
  }
  return lines;
}

/** One line for logs: "progress 57.1% 5,710/10,000 migrated=5,710 failed=0 38.1 rec/s elapsed 2m 30s remaining ~1m 52s workers=[...]" */
export function progressLine(p: BackfillProgress): string {
  const workers =
    p.workers.length > 1 ? ` workers=[${p.workers.map((w) => `${w.migrated}/${w.failed}`).join(' ')}]` : '';
  return (
    `progress ${percent(p).toFixed(1)}% ${n(p.processed)}/${n(p.total)} migrated=${n(p.migrated)} failed=${n(p.failed)}` +
    `${p.changed ? ` changed=${n(p.changed)}` : ''} ${p.recordsPerSecond.toFixed(1)} rec/s elapsed ${duration(p.elapsedMs)} remaining ${remaining(p)}${workers}${p.paused ? ' paused (server busy)' : ''}`
  );
}
