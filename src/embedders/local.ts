import { EMBEDDER } from '../options/table';
import type { SparseVector } from '../sparse/sparse-vector';
import { termIndexRange } from './local/hash';
import { TermCounts } from './local/term-counts';
import { autoThreads, LocalEmbedderPool, poolAvailable } from './local/thread-pool';
import { forEachTerm } from './local/tokenize';
import { unpackVectors, VectorPack, type PackedVectors } from './local/vector-pack';
import type {
  EmbedderConfig,
  EmbedderFingerprint,
  EmbedderProviderDefinition,
  EmbedMode,
  EmbedOptions,
  SparseEmbedder,
} from './types';

/** BM25 constants. There is no corpus state, so a fixed AVERAGE_LENGTH stands in for the corpus average. */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;
/** Average document length in words (see docs/embedders.md for how it was chosen). */
export const AVERAGE_LENGTH = 40;
/** The option table's default: the server's sparse index limit. */
export const DEFAULT_INDEX_SPACE = EMBEDDER.indexSpace.default;
export const LOCAL_BATCH_SIZE = 256;
/**
 * Model name and version of the local vectors: a change to tokenisation, weights or hash is a new version
 * (v1: ICU word segmentation; v2: one-pass scanner, CJK character bigrams, length in words).
 */
export const LOCAL_MODEL = 'bm25-fnv1a-v2';
/** Texts embedded in process between two turns of the event loop (about a millisecond of CPU). */
export const YIELD_EVERY = 128;
/** Batches smaller than this are embedded in process: handing them to a thread costs more than it saves. */
export const MIN_THREADED_BATCH = 16;

/**
 * `local`: the default sparse embedder. In-process, no key, no network, deterministic.
 *
 * Terms (local/tokenize.ts) are hashed to fnv1a32(utf8(term)) mod indexSpace (local/hash.ts); terms
 * that collide add up. With tf = the summed weight of a term and len = the text's length in words (as
 * local/tokenize.ts counts it: 1 per word, 1/2 per CJK character):
 *   document weight = tf·(k1+1) / (tf + k1·(1 − b + b·len/AVERAGE_LENGTH)), kept to 4 significant digits
 *   query weight    = tf
 * so the inner product of a query and a document is a BM25 score without IDF.
 */
export class LocalSparseEmbedder implements SparseEmbedder {
  readonly provider = 'local';
  readonly model = LOCAL_MODEL;
  readonly maxBatchSize = LOCAL_BATCH_SIZE;
  readonly maxIndex: number;
  readonly indexSpace: number;
  /** The model version and the index space: both change the vectors. */
  readonly fingerprint: EmbedderFingerprint;

  /** Worker threads that embed document batches (0: everything in process). */
  readonly threads: number;
  private pool: LocalEmbedderPool | undefined;
  private readonly counts = new TermCounts();
  /** The weights of the text weigh() did last, in [0, n) (its indices: counts.sortedIndices). */
  private weighed = new Float32Array(64);
  private readonly pack = new VectorPack();

  constructor(config: Pick<EmbedderConfig, 'indexSpace' | 'threads'> = {}) {
    const space = config.indexSpace ?? DEFAULT_INDEX_SPACE;
    const { min, max } = EMBEDDER.indexSpace.range;
    if (!Number.isInteger(space) || space < min || space > max)
      throw new RangeError(`indexSpace must be an integer from 1 to 2^32, got ${space}`);
    this.indexSpace = space;
    this.maxIndex = space - 1;
    this.fingerprint = { provider: 'local', model: LOCAL_MODEL, params: { indexSpace: space } };
    const threads =
      (config.threads ?? EMBEDDER.threads.default) === 'auto' ? autoThreads() : (config.threads as number);
    // The pool needs the compiled worker script; from untranspiled sources (ts-jest) it embeds in process.
    this.threads = threads > 0 && poolAvailable() ? threads : 0;
  }

  /**
   * Embed in document mode. With threads, batches of MIN_THREADED_BATCH texts or more are embedded on a
   * worker thread (same code, same vectors); if the threads are gone, in process.
   */
  async embedDocuments(texts: readonly string[], options: EmbedOptions = {}): Promise<SparseVector[]> {
    options.signal?.throwIfAborted();
    if (this.threads > 0 && texts.length >= MIN_THREADED_BATCH) {
      this.pool ??= new LocalEmbedderPool(this.threads, this.indexSpace);
      try {
        return await this.pool.embed(texts, 'document');
      } catch {
        // A thread died (or none is left): embed here instead.
      }
    }
    return this.embedInProcess(texts, options);
  }

  /** Ends the worker threads (optional: idle threads never keep the process alive). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  /**
   * In process, YIELD_EVERY texts at a time with a turn of the event loop between them: a batch of 1,000 texts
   * is milliseconds of CPU, and while it runs the database's answers wait. A backfill's transaction that has
   * just written the term statistics holds their row locks until its COMMIT, which it sends only once it sees
   * that answer; every other writer's statistics wait meanwhile (docs/benchmarks.md, "ninth look").
   */
  private async embedInProcess(texts: readonly string[], options: EmbedOptions): Promise<SparseVector[]> {
    const out: SparseVector[] = [];
    for (let i = 0; i < texts.length; i += YIELD_EVERY) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const part = unpackVectors(this.embedPacked(texts.slice(i, i + YIELD_EVERY), 'document', options.signal));
      for (const v of part) out.push(v);
    }
    return out;
  }

  /**
   * The texts' vectors packed into one pair of arrays (vector-pack.ts): the in-process path unpacks them into
   * views, a worker thread transfers them (thread-worker.ts). `signal` is checked every LOCAL_BATCH_SIZE texts.
   */
  embedPacked(texts: readonly string[], mode: EmbedMode, signal?: AbortSignal): PackedVectors {
    this.pack.reset();
    for (let i = 0; i < texts.length; i++) {
      if (i % LOCAL_BATCH_SIZE === 0) signal?.throwIfAborted();
      const n = this.weigh(texts[i], mode);
      this.pack.append(this.counts.sortedIndices, this.weighed, n);
    }
    return this.pack.packed();
  }

  async embedQuery(text: string, options: EmbedOptions = {}): Promise<SparseVector> {
    options.signal?.throwIfAborted();
    return this.embed(text, 'query');
  }

  /** Synchronous core (also used by benchmarks and test peers). Not re-entrant (one TermCounts per embedder). */
  embed(text: string, mode: EmbedMode): SparseVector {
    const n = this.weigh(text, mode);
    return { indices: this.counts.sortedIndices.slice(0, n), values: this.weighed.slice(0, n) };
  }

  /** Weigh a text's terms into counts.sortedIndices and this.weighed, [0, n); returns n. */
  private weigh(text: string, mode: EmbedMode): number {
    const counts = this.counts;
    const space = this.indexSpace;
    counts.reset();
    const length = forEachTerm(text, (t, start, end, weight) =>
      counts.add(termIndexRange(t, start, end, space), weight),
    );
    const n = counts.sort();
    if (this.weighed.length < n) this.weighed = new Float32Array(counts.sortedIndices.length);
    const weights = counts.sortedWeights;
    const values = this.weighed;
    const norm = BM25_K1 * (1 - BM25_B + (BM25_B * length) / AVERAGE_LENGTH);
    for (let k = 0; k < n; k++) {
      const f = weights[k];
      values[k] = mode === 'query' ? f : quantize((f * (BM25_K1 + 1)) / (f + norm));
    }
    // Distinct buckets in [0, indexSpace), finite positive weights: valid by construction.
    return n;
  }
}

/** Round a positive weight to 4 significant digits: enough for ranking, and short to store. */
export function quantize(w: number): number {
  if (!(w > 0) || !Number.isFinite(w)) return w;
  // BM25 document weights lie in (0, k1 + 1): a comparison ladder is cheaper than log10 there.
  const scale =
    w >= 1
      ? w >= 10
        ? 10 ** (3 - Math.floor(Math.log10(w)))
        : 1e3
      : w >= 0.1
        ? 1e4
        : w >= 0.01
          ? 1e5
          : w >= 0.001
            ? 1e6
            : 10 ** (3 - Math.floor(Math.log10(w)));
  const q = Math.round(w * scale) / scale;
  return q > 0 ? q : w;
}

export const localProvider: EmbedderProviderDefinition<'local'> = {
  name: 'local',
  description: `in-process BM25-style term weights hashed into [0, ${DEFAULT_INDEX_SPACE}); no key, no network (the default)`,
  create: (config) => new LocalSparseEmbedder(config),
};
