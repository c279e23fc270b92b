import type { SparseStorage } from '../config/config';
import { SparseVectorError } from '../errors';
import { describeServer, versionAtLeast, type ServerInfo } from '../db/server-info';
import type { SparseDialect } from './dialect';
import { OceanBaseDialect } from './oceanbase';
import { PortableJsonDialect } from './portable-json';
import { SeekdbDialect } from './seekdb';

export const MIN_OCEANBASE_VERSION = [4, 5, 0];

/** Whether the server has native sparse vectors (SPARSEVECTOR + sparse vector index). */
export function supportsNativeSparse(server: ServerInfo): boolean {
  if (server.product === 'seekdb') return true;
  return (
    server.product === 'oceanbase' && server.version.length > 0 && versionAtLeast(server.version, MIN_OCEANBASE_VERSION)
  );
}

/**
 * Choose the dialect for a server and storage mode, or explain why the server cannot be used.
 * Nothing is changed on the server by this check.
 */
export function selectDialect(server: ServerInfo, storage: SparseStorage, indexParams?: string): SparseDialect {
  if (storage === 'json') return new PortableJsonDialect(server);
  if (server.product === 'seekdb') return new SeekdbDialect(server, indexParams);
  if (supportsNativeSparse(server))
    return new OceanBaseDialect(server, indexParams, indexParams ? 'SPARSE_VECTOR_INDEX_PARAMS' : undefined);
  const portable = server.product === 'mariadb' || server.product === 'mysql';
  throw new SparseVectorError(
    'UNSUPPORTED_SERVER',
    `The server is ${describeServer(server)}, which has no native sparse vectors: ` +
      `they need seekdb or OceanBase >= ${MIN_OCEANBASE_VERSION.join('.')}. Nothing was changed.`,
    {
      hint: portable
        ? 'To use this server anyway, enable portable mode: SPARSE_VECTOR_STORAGE=json (a JSON column searched in SQL, without an ANN index).'
        : `Upgrade to OceanBase ${MIN_OCEANBASE_VERSION.join('.')} or later, or use seekdb.`,
    },
  );
}

/**
 * The dialect `doctor` checks: the configured storage's, also on a server that lacks it (MariaDB with native
 * storage gets the OceanBase statements, so each one fails with the server's own error).
 */
export function doctorDialect(server: ServerInfo, storage: SparseStorage, indexParams?: string): SparseDialect {
  if (storage === 'json') return new PortableJsonDialect(server);
  if (server.product === 'seekdb') return new SeekdbDialect(server, indexParams);
  return new OceanBaseDialect(server, indexParams, indexParams ? 'SPARSE_VECTOR_INDEX_PARAMS' : undefined);
}
