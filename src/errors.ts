/**
 * Every failure this package reports on purpose is an SparseVectorError: a stable `code` for programs,
 * a `message` that says what was wrong, and a `hint` that says how to fix it.
 * Messages never contain secrets (see util/redact.ts).
 */
export type SparseVectorErrorCode =
  | 'CONFIG_INVALID'
  | 'IDENTIFIER_INVALID'
  | 'UNSUPPORTED_SERVER'
  | 'TABLE_MISSING'
  | 'TABLE_AMBIGUOUS'
  | 'INDEX_DDL_REJECTED'
  | 'EMBEDDED_SEEKDB_UNSUPPORTED'
  | 'COLUMN_MISSING'
  | 'COLUMN_TYPE_MISMATCH'
  | 'LOCK_TIMEOUT'
  | 'LOCK_FAILED'
  | 'LOCK_LOST'
  | 'CONNECTION_FAILED'
  | 'PERMISSION_DENIED'
  | 'MIGRATION_NOT_FOUND'
  | 'SPARSE_VECTOR_INVALID'
  | 'EMBEDDER_CONFIG'
  | 'EMBEDDER_AUTH'
  | 'EMBEDDER_RATE_LIMIT'
  | 'EMBEDDER_HTTP'
  | 'EMBEDDER_TIMEOUT'
  | 'EMBEDDER_NETWORK'
  | 'EMBEDDER_BAD_RESPONSE'
  | 'SCRIPT_UNKNOWN'
  | 'SCRIPT_PARAMETER'
  | 'USAGE'
  | 'CONFIRMATION_REQUIRED'
  | 'INTERRUPTED'
  | 'BACKFILL_FAILED'
  | 'SCHEMA_NOT_UPGRADED'
  | 'SCHEMA_DOWNGRADED'
  | 'BACKFILL_RUNNING'
  | 'ID_COLUMN_INVALID'
  | 'EMBEDDER_UNREACHABLE'
  | 'EMBEDDER_CHANGED'
  | 'GENERATOR_REFUSED';

export class SparseVectorError extends Error {
  readonly code: SparseVectorErrorCode;
  readonly hint?: string;

  constructor(code: SparseVectorErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SparseVectorError';
    this.code = code;
    this.hint = options.hint;
  }

  /** "message\n  hint" as printed by the CLIs. */
  describe(): string {
    return this.hint ? `${this.message}\n  ${this.hint}` : this.message;
  }
}

export function isSparseVectorError(e: unknown): e is SparseVectorError {
  return e instanceof SparseVectorError;
}
