import fs from 'node:fs';

/**
 * Failpoints for crash and fault tests: named places where a test can stop or slow the process.
 * SVM_FAILPOINT=<name> makes the process announce "FAILPOINT <name>" on stderr and wait there (to be
 * killed, or, with SVM_FAILPOINT_RELEASE=<file>, until that file exists); SVM_FAILPOINT=<name>:<ms> waits
 * that long and then goes on. Without the variable, a failpoint costs one comparison.
 */
export async function failpoint(name: string): Promise<void> {
  const spec = process.env.SVM_FAILPOINT;
  if (!spec) return;
  // Names contain ':' themselves (e.g. "backfill:before-write"); only a trailing ":<digits>" is a delay.
  const [, point, ms] = /^(.*?)(?::(\d+))?$/.exec(spec)!;
  if (point !== name) return;
  process.stderr.write(`FAILPOINT ${name}\n`);
  const release = process.env.SVM_FAILPOINT_RELEASE;
  await new Promise<void>((resolve) => {
    if (ms !== undefined) setTimeout(resolve, Number(ms));
    else if (release) {
      // Held until the test creates that file (a race it lines up on purpose, not by timing).
      const poll = setInterval(() => fs.existsSync(release) && (clearInterval(poll), resolve()), 20);
    } else setInterval(() => {}, 60_000); // wait to be killed
  });
}
