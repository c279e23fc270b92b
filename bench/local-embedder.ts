import { LocalSparseEmbedder } from '../src/embedders/local';
import { sampleMemoryText, seededRandom } from '../src/sample/sample-memories';

/** Texts per second of the local embedder alone (document mode), on mixed English/Chinese memories of 20–500 characters. */
export async function benchLocalEmbedder(options: { texts?: number } = {}): Promise<{ texts: number; seconds: number; textsPerSecond: number; avgChars: number }> {
  const n = options.texts ?? 50_000;
  const rand = seededRandom(7);
  const texts = Array.from({ length: n }, () => sampleMemoryText(rand));
  const e = new LocalSparseEmbedder();
  for (let i = 0; i < 2000; i++) e.embed(texts[i % n], 'document'); // warm-up
  const started = process.hrtime.bigint();
  for (const t of texts) e.embed(t, 'document');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { texts: n, seconds, textsPerSecond: n / seconds, avgChars: texts.reduce((a, t) => a + t.length, 0) / n };
}
