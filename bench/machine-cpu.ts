import fs from 'node:fs';

/**
 * How much of the machine's CPU was not ours to use over a measured part: the share of CPU time the
 * hypervisor gave to other guests (steal, from /proc/stat). On a shared machine the backfill, which keeps
 * two processes busy (Node and the server), loses more to it than the ceiling, a single statement on one
 * core; so each round records it next to its ratio. Undefined where /proc/stat is not there.
 */
export function stealMeter(): { start(): () => number } | undefined {
  const read = (): { steal: number; total: number } => {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    // cpu user nice system idle iowait irq softirq steal ...
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: f[7], total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    read();
  } catch {
    return undefined;
  }
  return {
    start() {
      const a = read();
      return () => {
        const b = read();
        return b.total > a.total ? (b.steal - a.steal) / (b.total - a.total) : 0;
      };
    },
  };
}
