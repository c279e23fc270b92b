import fs from 'node:fs';

/**
 * Failpoints for crash and fault tests: named places where a test can stop, slow or hold the process.
 *
 * - SPARSE_FAILPOINT=<name> makes the process announce "FAILPOINT <name>" on stderr and wait there (to be
 *   killed, or, with SPARSE_FAILPOINT_RELEASE=<file>, until that file exists);
 * - SPARSE_FAILPOINT=<name>:<ms> waits that long and then goes on;
 * - SPARSE_FAILPOINT=<name>:<SIGNAL> (e.g. :SIGUSR2, :SIGINT) waits until the process receives that signal and
 *   then goes on (every later pass goes on at once): the test decides when, e.g. after killing connections;
 * - <name>@<n> (with any of the modes above): the first n-1 passes go on, the n-th stops (e.g. to kill a
 *   run half way: the 10th of 20 checkpoints).
 *
 * In-process tests register a handler with onFailpoint() instead. Without either, a failpoint costs one
 * map lookup and one comparison.
 */
const handlers = new Map<string, () => Promise<void> | void>();
const signalled = new Set<string>();
const passes = new Map<string, number>();

export async function failpoint(name: string): Promise<void> {
  const handler = handlers.get(name);
  if (handler) await handler();
  const spec = process.env.SPARSE_FAILPOINT;
  if (!spec) return;
  // Names contain ':' themselves (e.g. "backfill:before-write"); only a trailing ":<digits>" or ":SIG..." is a mode.
  const [, point, nth, mode] = /^(.*?)(?:@(\d+))?(?::(\d+|SIG[A-Z0-9]+))?$/.exec(spec)!;
  if (point !== name) return;
  if (nth !== undefined) {
    const pass = (passes.get(name) ?? 0) + 1;
    passes.set(name, pass);
    if (pass < Number(nth)) return;
  }
  if (mode?.startsWith('SIG')) return waitForSignal(name, mode as NodeJS.Signals);
  process.stderr.write(`FAILPOINT ${name}\n`);
  const release = process.env.SPARSE_FAILPOINT_RELEASE;
  await new Promise<void>((resolve) => {
    if (mode !== undefined) setTimeout(resolve, Number(mode));
    else if (release) {
      // Held until the test creates that file (a race it lines up on purpose, not by timing).
      const poll = setInterval(() => fs.existsSync(release) && (clearInterval(poll), resolve()), 20);
    } else setInterval(() => {}, 60_000); // wait to be killed
  });
}

function waitForSignal(name: string, signal: NodeJS.Signals): Promise<void> {
  if (signalled.has(signal)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    // Listening before the announcement: the test sends the signal only after reading it.
    process.once(signal, () => {
      signalled.add(signal);
      resolve();
    });
    process.stderr.write(`FAILPOINT ${name}\n`);
  });
}

/**
 * For in-process tests: run `handler` each time the failpoint `name` is passed (the caller waits for it).
 * Returns a function that removes the handler.
 */
export function onFailpoint(name: string, handler: () => Promise<void> | void): () => void {
  handlers.set(name, handler);
  return () => {
    if (handlers.get(name) === handler) handlers.delete(name);
  };
}

/**
 * A failpoint that changes what the code does instead of stopping it: true when SPARSE_FAILPOINT is exactly
 * `name` (e.g. writer:reject-batched makes the server reject every shape of the writer's batched UPDATE).
 */
export function failpointSet(name: string): boolean {
  return process.env.SPARSE_FAILPOINT === name;
}
