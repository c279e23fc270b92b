import fs from 'node:fs';
import path from 'node:path';
import { SparseVectorError } from '../errors';
import { CONNECTION } from '../options/table-connection';

const { host: HOST, embeddedPath: PATH } = CONNECTION;

/** Where powermem 1.1.x keeps an embedded seekdb when OCEANBASE_HOST is empty (OCEANBASE_PATH's default). */
export const POWERMEM_SEEKDB_PATH = PATH.default;

/** A powermem configuration that runs seekdb embedded in the Python process (no server to connect to). */
export interface EmbeddedSeekdb {
  /** The data path: OCEANBASE_PATH, or ./seekdb_data when that directory exists. */
  path: string;
  /** What made us think so, for the message. */
  because: string;
}

/**
 * powermem 1.1.x runs an embedded seekdb when OCEANBASE_HOST is empty, with its data in OCEANBASE_PATH
 * (default ./seekdb_data). Called only when no database URL is configured: the configuration looks like
 * embedded seekdb when OCEANBASE_HOST is unset or empty and there is a seekdb data path (OCEANBASE_PATH set,
 * or a ./seekdb_data directory in the working directory).
 */
export function detectEmbeddedSeekdb(
  env: Record<string, string | undefined>,
  cwd = process.cwd(),
): EmbeddedSeekdb | undefined {
  if ((env[HOST.env] ?? '').trim() !== '') return undefined;
  const hostWords = `${HOST.env} is ${env[HOST.env] === undefined ? 'not set' : 'empty'}`;
  const configured = (env[PATH.env] ?? '').trim();
  if (configured) return { path: configured, because: `${hostWords} and ${PATH.env}=${configured}` };
  if (isDirectory(path.resolve(cwd, POWERMEM_SEEKDB_PATH))) {
    return { path: POWERMEM_SEEKDB_PATH, because: `${hostWords} and ${POWERMEM_SEEKDB_PATH} exists` };
  }
  return undefined;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The error every entry point gives for an embedded seekdb configuration (instead of "not configured"). */
export function embeddedSeekdbError(e: EmbeddedSeekdb): SparseVectorError {
  return new SparseVectorError(
    'EMBEDDED_SEEKDB_UNSUPPORTED',
    `This looks like powermem's embedded seekdb (${e.because}): embedded seekdb is not supported by this tool, ` +
      'which talks to a database server over the MySQL protocol. Nothing was changed.',
    {
      hint:
        "Either run powermem's own scripts on the embedded database (Python: ScriptManager.run('upgrade-sparse-vector', auto_config()), " +
        "then ScriptManager.run('migrate-sparse-vector', Memory(config=auto_config()))), or run seekdb as a server on that data " +
        'and point powermem and this tool at it with OCEANBASE_HOST/OCEANBASE_PORT/OCEANBASE_USER/OCEANBASE_PASSWORD/OCEANBASE_DATABASE (or DATABASE_URL).',
    },
  );
}
