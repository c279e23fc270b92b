/**
 * `npx umzug seed` runs as `npm exec` -> `sh -c "umzug seed"` -> node. npm forwards SIGTERM/SIGINT to that
 * `sh` only, which dies of it without passing it on, and node would run on, reparented. So when npm started
 * us (npm_command is set), we watch our parent: once it is gone, we send ourselves SIGTERM, and the command
 * stops exactly as a SIGTERM would stop it (the backfill finishes its batches in flight and prints how to
 * resume). Signals sent to node itself (Ctrl-C on a terminal, `kill <node pid>`) need none of this.
 * Returns a function that stops watching.
 */
export function stopWhenOrphaned(env: NodeJS.ProcessEnv = process.env, intervalMs = 200): () => void {
  if (!env.npm_command) return () => undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
