import { LOCAL_BATCH_SIZE, LocalSparseEmbedder } from '../src/embedders/local';
import { sampleMemoryText, seededRandom } from '../testing/sample-memories';

/**
 * Throughput of the local embedder alone: document mode through the public embedDocuments API, in
 * batches of its maxBatchSize, on generated memories of 20–500 characters (about 40% Chinese, 60%
 * English; testing/sample-memories.ts, seed 7). One warm-up pass over 2,000 texts is not timed.
 */
export async function benchLocalEmbedder(
  options: { texts?: number } = {},
): Promise<{ texts: number; seconds: number; textsPerSecond: number; avgChars: number }> {
  const n = options.texts ?? 50_000;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`texts must be a positive integer, got ${n}`);
  const rand = seededRandom(7);
  const texts = Array.from({ length: n }, () => sampleMemoryText(rand));
  const embedder = new LocalSparseEmbedder();
  await embedder.embedDocuments(texts.slice(0, 2000));
  const started = process.hrtime.bigint();
  let produced = 0;
  for (let i = 0; i < n; i += LOCAL_BATCH_SIZE)
    produced += (await embedder.embedDocuments(texts.slice(i, i + LOCAL_BATCH_SIZE))).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (produced !== n) throw new Error(`embedded ${produced} of ${n} texts`);
  return { texts: n, seconds, textsPerSecond: n / seconds, avgChars: texts.reduce((a, t) => a + t.length, 0) / n };
}
