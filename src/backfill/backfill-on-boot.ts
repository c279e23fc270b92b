import { resolveConfig, type SparseVectorConfig, type SparseVectorOptions } from '../config/config';
import { privilegeError } from '../db/privileges';
import type { EmbedderConfig, SparseEmbedder } from '../embedders/types';
import type { Logger } from '../util/logger';
import type { BackfillOptions } from './options';
import { runSeeder, type SeederResult } from './seeder';
import { emptySummary } from './summary';

export interface BackfillOnBootOptions
  extends Omit<SparseVectorOptions, 'embedder'>, Omit<BackfillOptions, 'config' | 'embedder' | 'logger'> {
  /** A resolved configuration; without it, one is resolved from the other options and the environment. */
  config?: SparseVectorConfig;
  /** An embedder instance, or embedder settings merged over the environment's. */
  embedder?: SparseEmbedder | Partial<EmbedderConfig>;
  /** An embedder instance (same as passing one as `embedder`). */
  embedderInstance?: SparseEmbedder;
  logger?: Logger;
  /** Return at once with { done, abort } and backfill in the background. */
  background?: boolean;
}

export interface BackgroundBackfill {
  /** Resolves with the result; never rejects (errors are in result.error). */
  done: Promise<SeederResult>;
  /** Stop taking new batches; in-flight ones finish, then `done` resolves. */
  abort(): void;
}

function isEmbedder(x: unknown): x is SparseEmbedder {
  return !!x && typeof (x as SparseEmbedder).embedDocuments === 'function';
}

/**
 * Application boot: run the backfill seeder (quiet unless `progress` is set). With `background: true` it
 * returns { done, abort } at once; otherwise it resolves when the run ends. Safe when many instances boot
 * at once (one runs, the others return skippedReason 'busy'); cheap once the seeder is done (a ledger
 * read). SPARSE_VECTOR_ENABLE=false makes it a no-op. Errors are values (result.error), never thrown.
 */
export function backfillOnBoot(options: BackfillOnBootOptions & { background: true }): BackgroundBackfill;
export function backfillOnBoot(options?: BackfillOnBootOptions): Promise<SeederResult>;
export function backfillOnBoot(options: BackfillOnBootOptions = {}): BackgroundBackfill | Promise<SeederResult> {
  const controller = new AbortController();
  if (options.signal?.aborted) controller.abort();
  else options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const done = (async (): Promise<SeederResult> => {
    try {
      const { embedderInstance, embedder, config: given, background: _background, ...rest } = options;
      const instance = embedderInstance ?? (isEmbedder(embedder) ? embedder : undefined);
      const config = given ?? resolveConfig({ ...rest, embedder: isEmbedder(embedder) ? undefined : embedder });
      if (!config.enabled) return emptySummary(!!options.dryRun);
      const result = await runSeeder({
        progress: 'none',
        ...rest,
        embedder: instance,
        config,
        signal: controller.signal,
      });
      return result.error ? { ...result, error: privilegeError(result.error) ?? result.error } : result;
    } catch (err) {
      return { ...emptySummary(!!options.dryRun), ok: false, error: privilegeError(err) ?? (err as Error) };
    }
  })();
  if (options.background) return { done, abort: () => controller.abort() };
  return done;
}
