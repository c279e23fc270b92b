import fs from 'node:fs';
import { SparseVectorError } from '../errors';

/** TLS settings handed to mysql2 as its `ssl` option (see mysql2's documentation). */
export interface TlsOptions {
  /** PEM text of the certificate authority (or authorities) to trust; Node's default CAs when absent. */
  ca?: string;
  /** false accepts any server certificate (not recommended); mysql2's default is true. */
  rejectUnauthorized?: boolean;
}

const ON = ['true', '1', 'required', 'require', 'verify_ca', 'verify_identity', 'verify-ca', 'verify-full'];
const OFF = ['false', '0', 'disabled', 'disable'];
const SUPPORTED =
  'ssl=true|false, ssl={"rejectUnauthorized":false}, ssl-ca=/path/to/ca.pem, ssl-reject-unauthorized=false';

/**
 * The TLS settings of a database URL's query string. Supported: `ssl` (a yes/no word, or a JSON object of
 * mysql2 ssl options), `ssl-ca` (a PEM file to trust) and `ssl-reject-unauthorized`. Any other parameter is
 * refused, so that no setting is silently dropped.
 */
export function tlsFromUrl(u: URL, source: string): TlsOptions | undefined {
  let tls: TlsOptions | undefined;
  for (const [key, value] of u.searchParams) {
    const name = key.toLowerCase().replace(/_/g, '-');
    if (name === 'ssl' || name === 'sslmode' || name === 'ssl-mode') tls = sslWord(value, source, tls);
    else if (name === 'ssl-ca' || name === 'sslca' || name === 'sslrootcert')
      tls = { ...tls, ca: readCa(value, source) };
    else if (name === 'ssl-reject-unauthorized')
      tls = { ...tls, rejectUnauthorized: yesNo(value, `${source} ssl-reject-unauthorized`) };
    else {
      throw new SparseVectorError(
        'CONFIG_INVALID',
        `${source} has the option "${key}", which sparse-vector-migration does not support.`,
        {
          hint: `Remove it from the URL's query string. Supported options: ${SUPPORTED}.`,
        },
      );
    }
  }
  return tls;
}

function sslWord(value: string, source: string, current: TlsOptions | undefined): TlsOptions | undefined {
  const v = value.trim();
  if (v.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      throw new SparseVectorError('CONFIG_INVALID', `${source} has ssl=${v}, which is not valid JSON.`, {
        hint: `Use e.g. ssl={"rejectUnauthorized":true}.`,
      });
    }
    return { ...current, ...(parsed as TlsOptions) };
  }
  if (ON.includes(v.toLowerCase())) return { ...current };
  if (OFF.includes(v.toLowerCase())) return undefined;
  throw new SparseVectorError(
    'CONFIG_INVALID',
    `${source} has ssl=${v}, which is neither a yes/no word nor a JSON object.`,
    {
      hint: `Supported: ${SUPPORTED}.`,
    },
  );
}

function yesNo(value: string, what: string): boolean {
  if (ON.includes(value.toLowerCase())) return true;
  if (OFF.includes(value.toLowerCase())) return false;
  throw new SparseVectorError('CONFIG_INVALID', `${what}=${value} is not true or false.`, {
    hint: 'Use true or false.',
  });
}

function readCa(file: string, source: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SparseVectorError(
      'CONFIG_INVALID',
      `${source} names the CA file ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
      {
        hint: 'Point ssl-ca at a readable PEM file (absolute path, or relative to the working directory).',
      },
    );
  }
}
