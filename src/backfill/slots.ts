import PQueue from 'p-queue';

/** A batch's job in a slot: embed, then hand the write to `pipeline`. */
export type SlotJob = (slot: number, pipeline: (write: () => Promise<void>) => Promise<void>) => Promise<void>;

/**
 * Worker slots with pipelined writes, one mechanism: at most `count` batches are embedded at a time, each
 * in a slot; a slot's write runs while the slot goes on embedding its next batch, and that batch's write
 * first waits for it, so each slot has at most one write in flight (back-pressure: a slot waits for its
 * previous write before it takes another batch). Free slots are taken round-robin (FIFO), which keeps up to
 * `count` writes in flight even when embedding is so fast that a slot is free again at once.
 *
 * The first error of a job or a write goes to `onError` (the run's end); the others are dropped.
 */
export class WorkerSlots {
  private readonly queue: PQueue;
  private readonly free: number[];
  private readonly writes: Array<Promise<void> | undefined>;

  constructor(
    readonly count: number,
    private readonly onError: (err: Error) => void,
  ) {
    this.queue = new PQueue({ concurrency: count });
    this.free = Array.from({ length: count }, (_, i) => i);
    this.writes = new Array<Promise<void> | undefined>(count).fill(undefined);
  }

  /** Resolves when one more batch may be read ahead (a batch queued per slot, so no slot waits for the reader). */
  readyForMore(): Promise<void> {
    return this.queue.onSizeLessThan(this.count);
  }

  /** Queue a batch's job; it runs in the next free slot. */
  run(job: SlotJob): void {
    void this.queue.add(async () => {
      const slot = this.free.shift()!;
      try {
        await job(slot, (write) => this.pipeline(slot, write));
      } catch (err) {
        this.onError(err as Error);
      } finally {
        this.free.push(slot);
      }
    });
  }

  /** Every job done and every write settled. */
  async settle(): Promise<void> {
    await this.queue.onIdle();
    for (const w of this.writes) await w?.catch((err: Error) => this.onError(err));
  }

  /** Chain `write` behind the slot's previous write; resolves when that previous write is done. */
  private async pipeline(slot: number, write: () => Promise<void>): Promise<void> {
    const previous = this.writes[slot];
    const next = (async () => {
      await previous;
      await write();
    })();
    void next.catch(() => undefined); // awaited later (the slot's next batch, or settle())
    this.writes[slot] = next;
    await previous;
  }
}
