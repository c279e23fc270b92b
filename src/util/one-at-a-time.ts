/**
 * Runs the tasks given to it one at a time, in the order they were given: each starts once the one before
 * it has settled, whether it succeeded or failed (its caller gets the failure).
 */
export class OneAtATime {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.last.then(task);
    this.last = result.catch(() => undefined);
    return result;
  }
}
