/** The messages between the local embedder's thread pool (thread-pool.ts) and its workers (thread-worker.ts). */
import type { EmbedMode } from '../types';

export interface EmbedRequest {
  id: number;
  texts: string[];
  mode: EmbedMode;
}

export interface EmbedReply {
  id: number;
  offsets?: Uint32Array;
  indices?: Uint32Array;
  values?: Float32Array;
  error?: string;
}
