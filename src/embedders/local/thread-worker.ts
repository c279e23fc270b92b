/**
 * Worker thread of the local embedder's pool (see thread-pool.ts): embeds the texts it is sent with the
 * same LocalSparseEmbedder code as the main thread and sends the vectors back packed in three transferable
 * arrays (offsets, indices, values), so nothing is copied twice.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalSparseEmbedder } from '../local';
import type { EmbedReply, EmbedRequest } from './thread-messages';

const embedder = new LocalSparseEmbedder({ indexSpace: (workerData as { indexSpace: number }).indexSpace, threads: 0 });

parentPort!.on('message', ({ id, texts, mode }: EmbedRequest) => {
  try {
    const vectors = texts.map((t) => embedder.embed(t, mode));
    const offsets = new Uint32Array(vectors.length + 1);
    for (let i = 0; i < vectors.length; i++) offsets[i + 1] = offsets[i] + vectors[i].indices.length;
    const indices = new Uint32Array(offsets[vectors.length]);
    const values = new Float32Array(offsets[vectors.length]);
    vectors.forEach((v, i) => {
      indices.set(v.indices, offsets[i]);
      values.set(v.values, offsets[i]);
    });
    const reply: EmbedReply = { id, offsets, indices, values };
    parentPort!.postMessage(reply, [offsets.buffer, indices.buffer, values.buffer]);
  } catch (err) {
    parentPort!.postMessage({ id, error: String((err as Error)?.message ?? err) } satisfies EmbedReply);
  }
});
