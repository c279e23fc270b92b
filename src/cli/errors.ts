import { isSparseVectorError } from '../errors';
import { unwrapMigrationError } from '../migrator/migrate-on-boot';
import { redact } from '../util/redact';

/** Exit codes shared by our CLIs. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The text a CLI prints for an error: our message and hint, or the driver's message, never a secret. */
export function formatError(err: unknown): string {
  const e = unwrapMigrationError(err);
  if (isSparseVectorError(e)) return redact(`Error [${e.code}]: ${e.describe()}`);
  const code = (e as { code?: string }).code;
  return redact(`Error${code ? ` [${code}]` : ''}: ${e.message}`);
}

export function isUsageError(err: unknown): err is Error & { exitCode: number } {
  return !!err && typeof err === 'object' && (err as Error).constructor?.name === 'CommandLineParserExitError';
}
