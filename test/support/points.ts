/**
 * Named stopping points for in-process tests of asynchronous code: a fake part calls `await points.pass(name)`
 * where it could be held; a test holds a point before the run (`hold`), waits until the code is there
 * (`reached`), does what it tests at that exact moment (abort, check), then lets it go on (`open`). A point
 * not held is passed at once. Nothing waits for time: each step waits for a state.
 */
export class Points {
  private readonly held = new Map<string, { reached: boolean; open: () => void; gate: Promise<void> }>();
  /** Every point passed or reached, in order. */
  readonly log: string[] = [];

  hold(...names: string[]): this {
    for (const name of names) {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      this.held.set(name, { reached: false, open, gate });
    }
    return this;
  }

  /** Called by a fake part: held here until the test opens the point. */
  async pass(name: string): Promise<void> {
    this.log.push(name);
    const p = this.held.get(name);
    if (!p) return;
    p.reached = true;
    await p.gate;
  }

  /** Resolves when the code has reached the held point `name` (fails if in-memory code never gets there). */
  reached(name: string): Promise<void> {
    const p = this.held.get(name);
    if (!p) throw new Error(`point ${name} is not held`);
    return turnsUntil(() => p.reached);
  }

  open(name: string): void {
    const p = this.held.get(name);
    if (!p) throw new Error(`point ${name} is not held`);
    p.open();
  }
}

/**
 * Let every pending promise callback and I/O callback of the process run (one turn of the event loop): what
 * in-memory code can do without outside input is then done. Used to check that something has NOT happened.
 */
export function settleTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * Wait until `check()` holds, a turn of the event loop at a time (for in-memory code: no timer, no time). In-memory
 * code that does not get there within `turns` turns never will: the wait fails then instead of spinning.
 */
export async function turnsUntil(check: () => boolean, turns = 1000): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i >= turns) throw new Error(`not reached after ${turns} turns of the event loop: ${check.toString()}`);
    await settleTurn();
  }
}

/**
 * The value `p` settles with, waited for a turn at a time (see turnsUntil): a run of in-memory code that hangs
 * fails the test at once instead of at jest's timeout. A rejection is thrown.
 */
export async function outcome<T>(p: Promise<T>): Promise<T> {
  let result: { value: T } | { error: unknown } | undefined;
  p.then(
    (value) => (result = { value }),
    (error: unknown) => (result = { error }),
  );
  await turnsUntil(() => result !== undefined);
  if ('error' in result!) throw result.error;
  return result!.value;
}
