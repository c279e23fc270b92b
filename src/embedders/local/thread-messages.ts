/** The messages between the local embedder's thread pool (thread-pool.ts) and its workers (thread-worker.ts). */
import type { EmbedMode } from '../types';
import type { PackedVectors } from './vector-pack';

export interface EmbedRequest {
  id: number;
  texts: string[];
  mode: EmbedMode;
}

/** The vectors (vector-pack.ts's packed form, its buffers transferred), or the error. */
export interface EmbedReply extends Partial<PackedVectors> {
  id: number;
  error?: string;
}
