import type { Knex } from 'knex';
import { MigrationError } from 'umzug';
import { resolveConfig, type SparseVectorOptions } from '../config/config';
import { privilegeError } from '../db/privileges';
import { SparseVectorError } from '../errors';
import { createMemoryLogger, type Logger } from '../util/logger';
import { createSparseMigrator } from './umzug';

export interface MigrateToLatestOptions extends SparseVectorOptions {
  logger?: Logger;
  /** Run on this knex instance (the application's own) instead of opening a connection. */
  knex?: Knex;
}

/** What a boot-time run did. Errors are values: the function does not throw. */
export interface MigrateToLatestResult {
  ok: boolean;
  /** Migrations applied by this run, in order. */
  applied: string[];
  /** Migrations found applied (by an earlier run, or by another instance while this one waited for the lock). */
  alreadyApplied: string[];
  /** Set when the run did nothing on purpose (SPARSE_VECTOR_ENABLE=false). */
  skipped?: string;
  error?: Error;
  durationMs: number;
  /** The lines the migrations printed. */
  log: string[];
}

/**
 * Application boot: apply every pending sparse-vector migration under the cross-process lock, so that
 * many instances booting at once apply each migration exactly once. Never throws.
 *
 * @example
 *   const result = await migrateToLatest();
 *   if (!result.ok) { logger.error(result.error); process.exit(1); }
 */
export async function migrateToLatest(options: MigrateToLatestOptions = {}): Promise<MigrateToLatestResult> {
  const started = Date.now();
  const memory = createMemoryLogger();
  const logger = fanOut(memory, options.logger);
  const result = (partial: Partial<MigrateToLatestResult>): MigrateToLatestResult => ({
    ok: !partial.error,
    applied: [],
    alreadyApplied: [],
    durationMs: Date.now() - started,
    log: memory.lines,
    ...partial,
  });
  let migrator: ReturnType<typeof createSparseMigrator> | undefined;
  try {
    const config = resolveConfig(options);
    if (!config.enabled) return result({ skipped: 'SPARSE_VECTOR_ENABLE is false' });
    migrator = createSparseMigrator({ config, logger, knex: options.knex });
    const applied = (await migrator.umzug.up()).map((m) => m.name);
    // Read after the run: a run that waited for the lock finds what another instance applied meanwhile.
    const executed = (await migrator.umzug.executed()).map((m) => m.name);
    return result({ applied, alreadyApplied: executed.filter((name) => !applied.includes(name)) });
  } catch (err) {
    return result({ error: unwrapMigrationError(err) });
  } finally {
    await migrator?.close();
  }
}

/**
 * Umzug wraps a migration's error in MigrationError; callers want the SparseVectorError inside. A server's "command
 * denied" becomes PERMISSION_DENIED naming the missing privilege and the step that needs it.
 */
export function unwrapMigrationError(err: unknown): Error {
  let e: unknown = err;
  while (e instanceof MigrationError && e.cause) e = e.cause;
  const denied = privilegeError(e);
  if (denied) return denied;
  if (e instanceof SparseVectorError || e instanceof Error) return e;
  return new Error(String(e));
}

function fanOut(a: Logger, b?: Logger): Logger {
  if (!b) return a;
  return {
    info: (m) => (a.info(m), b.info(m)),
    warn: (m) => (a.warn(m), b.warn(m)),
    debug: (m) => (a.debug(m), b.debug(m)),
  };
}
