import { resolveConfig, type SparseVectorOptions } from '../config/config';
import type { SparseEmbedder } from '../embedders/types';
import type { Logger } from '../util/logger';
import type { BackfillOptions } from './options';
import { runSeeder, type SeederResult } from './seeder';

export interface BackfillOnBootOptions extends SparseVectorOptions, Omit<BackfillOptions, 'config' | 'embedder' | 'logger'> {
  /** An embedder instance to use instead of the configured one. */
  embedderInstance?: SparseEmbedder;
  logger?: Logger;
  /** Return at once and backfill in the background. */
  background?: boolean;
}

export interface BackgroundBackfill {
  /** Resolves with the result; never rejects (errors are in result.error). */
  done: Promise<SeederResult>;
  /** Stop taking new batches; in-flight ones finish, then `done` resolves. */
  abort(): void;
}

/**
 * Application boot: run the backfill seeder (no output unless `progress` is set). With
 * `background: true` it returns a handle at once; otherwise it resolves when the run ends.
 * SPARSE_VECTOR_ENABLE=false makes it a no-op. Errors are values, never thrown.
 */
export function backfillOnBoot(options: BackfillOnBootOptions & { background: true }): BackgroundBackfill;
export function backfillOnBoot(options?: BackfillOnBootOptions): Promise<SeederResult>;
export function backfillOnBoot(options: BackfillOnBootOptions = {}): BackgroundBackfill | Promise<SeederResult> {
  const controller = new AbortController();
  if (options.signal) options.signal.addEventListener('abort', () => controller.abort(), { once: true });
  const done = (async (): Promise<SeederResult> => {
    try {
      const config = resolveConfig(options);
      if (!config.enabled) return { ...empty(), skippedReason: undefined };
      const { embedderInstance, embedder: _embedderConfig, ...rest } = options;
      return await runSeeder({ progress: 'none', ...rest, embedder: embedderInstance, config, signal: controller.signal });
    } catch (err) {
      return { ...empty(), ok: false, error: err as Error };
    }
  })();
  if (options.background) return { done, abort: () => controller.abort() };
  return done;
}

function empty(): SeederResult {
  return { ok: true, dryRun: false, stopped: false, total: 0, migrated: 0, failed: 0, skipped: 0, failures: [], workers: [], elapsedMs: 0, recordsPerSecond: 0, remaining: 0 };
}
