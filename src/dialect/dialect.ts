import type { SparseVector } from '../sparse/sparse-vector';
import type { ServerInfo } from '../db/server-info';

/** Names the dialect's statements are built for; all are validated identifiers. */
export interface SparseTarget {
  table: string;
  idColumn: string;
  textColumn: string;
  sparseColumn: string;
  sparseIndex: string;
}

/** `column = value` (the column a validated identifier, the value bound). */
export interface ColumnFilter {
  column: string;
  value: string;
}

/** One way to write the sparse vector index DDL, and where that form comes from. */
export interface IndexForm {
  /** The WITH (...) parameters. */
  params: string;
  /** Where the form comes from (configuration, documentation, source). */
  source: string;
  sql: string;
}

/** What a search asks a dialect for (the arguments of searchSql, with the optional lists defaulted to none). */
export interface SearchRequest {
  target: SparseTarget;
  query: SparseVector;
  /** Rows to return (checked against the server's limit by the dialect). */
  k: number;
  /** Columns returned besides id and text. */
  extraColumns: readonly string[];
  /** Equality conditions every returned row meets. */
  filters: readonly ColumnFilter[];
}

export interface SearchStatement {
  sql: string;
  bindings: string[];
  /** Converts the row's raw score column into a similarity where larger is better. */
  similarity(raw: unknown): number;
}

/**
 * Everything that differs between servers. One implementation per server kind:
 * oceanbase.ts (OceanBase >= 4.5.0), seekdb.ts (seekdb) and portable-json.ts (MySQL/MariaDB, portable mode).
 */
export interface SparseDialect {
  readonly name: 'oceanbase' | 'seekdb' | 'portable-json';
  readonly server: ServerInfo;
  /** Whether the dialect builds an ANN index for the column. */
  readonly hasIndex: boolean;
  /** Largest sparse index the stored vectors may use (the SINDI index rejects keys above 500,000). */
  readonly maxIndex: number;
  /** Human-readable column type, for messages. */
  readonly columnType: string;

  addColumnSql(t: SparseTarget): string;
  /** information_schema.COLUMNS DATA_TYPE / COLUMN_TYPE of a column that already has the right type. */
  isExpectedColumnType(dataType: string, columnType: string): boolean;
  createIndexSql(t: SparseTarget): string | undefined;
  /**
   * Every form of the index DDL to try, in order (the configured one first, then the known forms): the
   * upgrade falls back to the next one when the server rejects one. Absent or empty: createIndexSql only.
   */
  indexForms?(t: SparseTarget): IndexForm[];
  dropIndexSql(t: SparseTarget): string;
  dropColumnSql(t: SparseTarget): string;

  /** The value bound for the column. */
  encode(v: SparseVector): string;
  /** The stored value as read back (string, or JSON already parsed by the driver). */
  decode(raw: unknown): SparseVector;

  /** Top-k by inner product; only rows with an embedding (and matching every filter) take part. */
  searchSql(
    t: SparseTarget,
    query: SparseVector,
    k: number,
    extraColumns?: readonly string[],
    filters?: readonly ColumnFilter[],
  ): SearchStatement;
}
