import { quoteIdentifier as q } from '../identifiers';
import type { ServerInfo } from '../db/server-info';
import { parsePortableJson, toPortableJson, type SparseVector } from '../sparse/sparse-vector';
import type { SearchRequest, SearchStatement, SparseDialect, SparseTarget } from './dialect';
import { checkLimit, CommonStatements, filterConditions, selectList } from './common';

const JSON_PAIRS = `'$[*]' COLUMNS (i BIGINT PATH '$[0]', v DOUBLE PATH '$[1]')`;

/**
 * Portable mode for MySQL 8 / MariaDB >= 10.6 (SPARSE_VECTOR_STORAGE=json): the vector is a nullable JSON
 * column holding `[[index, weight], ...]`. There is no ANN index: search computes the exact inner product in
 * SQL with JSON_TABLE, scanning every embedded row. Meant for development, tests and small tables.
 */
export class PortableJsonDialect extends CommonStatements implements SparseDialect {
  readonly name = 'portable-json' as const;
  readonly hasIndex: boolean = false;
  readonly maxIndex = 0xffff_ffff;
  readonly columnType = 'JSON';

  constructor(readonly server: ServerInfo) {
    super();
  }

  addColumnSql(t: SparseTarget): string {
    return `ALTER TABLE ${q(t.table)} ADD COLUMN ${q(t.sparseColumn)} JSON NULL`;
  }

  isExpectedColumnType(dataType: string): boolean {
    // MariaDB's JSON is an alias of LONGTEXT with a json_valid() check.
    return /^(json|longtext)$/i.test(dataType);
  }

  createIndexSql(_t?: SparseTarget): string | undefined {
    return undefined;
  }

  encode(v: SparseVector): string {
    return toPortableJson(v);
  }

  decode(raw: unknown): SparseVector {
    return parsePortableJson(this.storedText(raw));
  }

  protected searchStatement({ target: t, query, k, extraColumns, filters }: SearchRequest): SearchStatement {
    const where = filterConditions('d', filters);
    const sql =
      `SELECT ${selectList(t, 'm', extraColumns)}, s.${q('score')} AS ${q('score')} FROM (` +
      `SELECT d.${q(t.idColumn)} AS ${q('sid')}, SUM(e.v * qv.v) AS ${q('score')} ` +
      `FROM ${q(t.table)} AS d, JSON_TABLE(d.${q(t.sparseColumn)}, ${JSON_PAIRS}) AS e, JSON_TABLE(?, ${JSON_PAIRS}) AS qv ` +
      `WHERE d.${q(t.sparseColumn)} IS NOT NULL AND e.i = qv.i${where.sql} GROUP BY d.${q(t.idColumn)}` +
      `) AS s JOIN ${q(t.table)} AS m ON m.${q(t.idColumn)} = s.${q('sid')} ` +
      `ORDER BY s.${q('score')} DESC, m.${q(t.idColumn)} ASC LIMIT ${checkLimit(k)}`;
    return { sql, bindings: [toPortableJson(query), ...where.bindings], similarity: (raw) => Number(raw) };
  }
}
