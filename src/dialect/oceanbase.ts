import { quoteIdentifier as q } from '../identifiers';
import type { ServerInfo } from '../db/server-info';
import {
  SPARSE_INDEX_LIMIT,
  parseOceanBaseLiteral,
  toOceanBaseLiteral,
  type SparseVector,
} from '../sparse/sparse-vector';
import type { IndexForm, SearchRequest, SearchStatement, SparseDialect, SparseTarget } from './dialect';
import { checkLimit, CommonStatements, filterConditions, selectList } from './common';

/**
 * OceanBase >= 4.5.0 (native SPARSEVECTOR column + sparse vector index).
 *
 * Index WITH clause: OceanBase's documentation shows `WITH (distance=inner_product)` for the sparse vector
 * index (pyobvector emits `lib=OB,distance=inner_product,type=sindi`, which the mainline docs do not list);
 * the documented form is the default and SPARSE_VECTOR_INDEX_PARAMS overrides it.
 */
export const OCEANBASE_DEFAULT_INDEX_PARAMS = 'distance=inner_product';

/**
 * The index parameter forms the sources disagree on, tried in this order after the configured one when the
 * server rejects it (see docs/oceanbase.md).
 */
export const KNOWN_INDEX_FORMS: ReadonlyArray<{ params: string; source: string }> = [
  {
    params: 'distance=inner_product',
    source: 'OceanBase documentation (CREATE VECTOR INDEX ... WITH (distance=inner_product))',
  },
  {
    params: 'distance=inner_product, type=sindi',
    source: 'seekdb source (check_index_param requires type=sindi and distance for a sparse index)',
  },
  { params: 'lib=OB, distance=inner_product, type=sindi', source: "pyobvector (powermem's upgrade script)" },
];

export class OceanBaseDialect extends CommonStatements implements SparseDialect {
  readonly name: 'oceanbase' | 'seekdb' = 'oceanbase';
  readonly hasIndex = true;
  readonly maxIndex = SPARSE_INDEX_LIMIT - 1;
  readonly columnType = 'SPARSEVECTOR';

  constructor(
    readonly server: ServerInfo,
    protected readonly indexParams: string = OCEANBASE_DEFAULT_INDEX_PARAMS,
    /** Where indexParams comes from, for the message that says which form was used. */
    protected readonly indexParamsSource: string = 'OceanBase documentation (default)',
  ) {
    super();
  }

  addColumnSql(t: SparseTarget): string {
    return `ALTER TABLE ${q(t.table)} ADD COLUMN ${q(t.sparseColumn)} SPARSEVECTOR`;
  }

  isExpectedColumnType(dataType: string, columnType: string): boolean {
    return /sparse\s*_?vector/i.test(dataType) || /sparse\s*_?vector/i.test(columnType);
  }

  createIndexSql(t: SparseTarget, params: string = this.indexParams): string {
    return `CREATE VECTOR INDEX ${q(t.sparseIndex)} ON ${q(t.table)}(${q(t.sparseColumn)}) WITH (${normaliseParams(params)})`;
  }

  /** The configured (or default) parameters, then each known form not already tried. */
  indexForms(t: SparseTarget): IndexForm[] {
    const forms: IndexForm[] = [];
    for (const f of [{ params: this.indexParams, source: this.indexParamsSource }, ...KNOWN_INDEX_FORMS]) {
      const sql = this.createIndexSql(t, f.params);
      if (!forms.some((x) => sameParams(x.params, f.params)))
        forms.push({ params: normaliseParams(f.params), source: f.source, sql });
    }
    return forms;
  }

  encode(v: SparseVector): string {
    return toOceanBaseLiteral(v);
  }

  decode(raw: unknown): SparseVector {
    return parseOceanBaseLiteral(String(this.storedText(raw)));
  }

  /**
   * `ORDER BY negative_inner_product(...) APPROXIMATE LIMIT k` is the form that uses the sparse index;
   * `inner_product(...) DESC` falls back to a full scan, and a plain LIMIT never uses the index.
   */
  protected searchStatement({ target: t, query, k, extraColumns, filters }: SearchRequest): SearchStatement {
    // Rows without a vector never take part (powermem's query lets them through with a NULL score); filters
    // are plain WHERE conditions, which OceanBase applies with the index (APPROXIMATE is kept).
    const where = filterConditions('m', filters);
    const sql =
      `SELECT ${selectList(t, 'm', extraColumns)}, negative_inner_product(m.${q(t.sparseColumn)}, ?) AS ${q('score')} ` +
      `FROM ${q(t.table)} AS m WHERE m.${q(t.sparseColumn)} IS NOT NULL${where.sql} ORDER BY ${q('score')} APPROXIMATE LIMIT ${checkLimit(k)}`;
    return { sql, bindings: [toOceanBaseLiteral(query), ...where.bindings], similarity: (raw) => -Number(raw) };
  }
}

/** The same parameters in any order and spacing ("type=sindi,distance=inner_product" = "distance=inner_product, type=sindi"). */
function sameParams(a: string, b: string): boolean {
  const key = (p: string) => normaliseParams(p).toLowerCase().split(', ').sort().join(',');
  return key(a) === key(b);
}

/** "a = b ,c=d" -> "a=b, c=d" (the value was validated by the configuration). */
export function normaliseParams(params: string): string {
  return params
    .split(',')
    .map((p) =>
      p
        .split('=')
        .map((s) => s.trim())
        .join('='),
    )
    .join(', ');
}
