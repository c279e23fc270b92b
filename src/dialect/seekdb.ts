import type { ServerInfo } from '../db/server-info';
import { OceanBaseDialect } from './oceanbase';

/**
 * seekdb: the same SPARSEVECTOR type and search functions as OceanBase; its in-memory sparse index (SINDI)
 * is documented as `CREATE VECTOR INDEX i ON t(c) WITH (distance=inner_product, type=sindi, lib=vsag)`.
 */
export const SEEKDB_DEFAULT_INDEX_PARAMS = 'distance=inner_product, type=sindi, lib=vsag';

export class SeekdbDialect extends OceanBaseDialect {
  override readonly name = 'seekdb' as const;

  constructor(server: ServerInfo, indexParams?: string) {
    super(
      server,
      indexParams ?? SEEKDB_DEFAULT_INDEX_PARAMS,
      indexParams ? 'SPARSE_VECTOR_INDEX_PARAMS' : 'seekdb documentation (default)',
    );
  }
}
