/**
 * Worker thread of the local embedder's pool (see thread-pool.ts): embeds the texts it is sent with the
 * same LocalSparseEmbedder code as the main thread and sends the vectors back packed in three transferable
 * arrays (offsets, indices, values: embedPacked), so nothing is copied twice.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalSparseEmbedder } from '../local';
import type { EmbedReply, EmbedRequest } from './thread-messages';

const embedder = new LocalSparseEmbedder({ indexSpace: (workerData as { indexSpace: number }).indexSpace, threads: 0 });

parentPort!.on('message', ({ id, texts, mode }: EmbedRequest) => {
  try {
    const { offsets, indices, values } = embedder.embedPacked(texts, mode);
    const reply: EmbedReply = { id, offsets, indices, values };
    parentPort!.postMessage(reply, [offsets.buffer, indices.buffer, values.buffer]);
  } catch (err) {
    parentPort!.postMessage({ id, error: String((err as Error)?.message ?? err) } satisfies EmbedReply);
  }
});
