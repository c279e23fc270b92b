import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SparseVector } from '../../sparse/sparse-vector';
import type { EmbedMode } from '../types';
import type { EmbedReply, EmbedRequest } from './thread-messages';
import { unpackVectors } from './vector-pack';

/** The compiled worker script; absent when the sources run untranspiled (ts-jest): then no pool is used. */
const WORKER_SCRIPT = path.join(__dirname, 'thread-worker.js');

/**
 * Threads for `threads: 'auto'`: with 4 or more cores, one per spare core (the main thread reads and
 * writes), at most 4; with fewer, none. Measured on 2 cores with the database on the same machine (see
 * docs/benchmarks.md): a thread gains ~15% there but costs ~100 MB of memory, so 'auto' leaves it off.
 */
export function autoThreads(
  cores: number = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
): number {
  return cores >= 4 ? Math.min(4, cores - 1) : 0;
}

export function poolAvailable(): boolean {
  return fs.existsSync(WORKER_SCRIPT);
}

interface Slot {
  worker: Worker;
  inFlight: number;
  dead: boolean;
}

/**
 * A small pool of worker threads running the local embedder, so that embedding (CPU-bound) overlaps with
 * the backfill's reading and writing on the main thread and uses more than one core. Requests go to the
 * least busy thread. The threads do not keep the process alive while idle (they are unref'd between
 * requests), so a caller never has to close the pool; close() ends them at once.
 */
export class LocalEmbedderPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<
    number,
    { resolve: (v: SparseVector[]) => void; reject: (e: Error) => void; slot: Slot }
  >();
  private nextId = 1;

  constructor(threads: number, indexSpace: number) {
    this.slots = Array.from({ length: threads }, () => {
      const slot: Slot = {
        worker: new Worker(WORKER_SCRIPT, { workerData: { indexSpace } }),
        inFlight: 0,
        dead: false,
      };
      slot.worker.unref();
      slot.worker.on('message', (reply: EmbedReply) => this.settle(slot, reply));
      slot.worker.on('error', (err) => this.failAll(slot, err));
      slot.worker.on('exit', (code) => this.failAll(slot, new Error(`local embedder thread exited with code ${code}`)));
      return slot;
    });
  }

  get size(): number {
    return this.slots.length;
  }

  /** Rejects when no thread is left (a thread that died is not used again); callers then embed in process. */
  embed(texts: readonly string[], mode: EmbedMode): Promise<SparseVector[]> {
    const live = this.slots.filter((s) => !s.dead);
    if (!live.length) return Promise.reject(new Error('no local embedder thread is running'));
    const slot = live.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = this.nextId++;
    return new Promise<SparseVector[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      if (slot.inFlight++ === 0) slot.worker.ref();
      const request: EmbedRequest = { id, texts: [...texts], mode };
      slot.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    for (const s of this.slots) s.dead = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private settle(slot: Slot, reply: EmbedReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (--slot.inFlight === 0) slot.worker.unref();
    if (reply.error !== undefined) return p.reject(new Error(reply.error));
    p.resolve(unpackVectors(reply as Required<EmbedReply>));
  }

  private failAll(slot: Slot, err: Error): void {
    slot.dead = true;
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      p.reject(err);
    }
    slot.inFlight = 0;
  }
}
