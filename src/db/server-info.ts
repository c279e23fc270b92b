import type { Knex } from 'knex';

export type ServerProduct = 'oceanbase' | 'seekdb' | 'mariadb' | 'mysql' | 'unknown';

/** What kind of server we talk to, read from VERSION() and @@version_comment. */
export interface ServerInfo {
  product: ServerProduct;
  /** The product's own version: 4.4.2.1 for OceanBase, 1.4.0.0 for seekdb, 10.11.19 for MariaDB. */
  version: number[];
  versionText: string;
  /** The raw strings we looked at, for messages. */
  rawVersion: string;
  rawComment: string;
}

const SEEKDB = /seekdb[^0-9]*v?(\d+(?:\.\d+)*)/i;
const OCEANBASE = /oceanbase[^0-9]*?v?(\d+(?:\.\d+)*)/i;
const MARIADB = /^(\d+(?:\.\d+)*)-?.*mariadb/i;
const LEADING = /^(\d+(?:\.\d+)*)/;

/**
 * Tell OceanBase, seekdb, MariaDB and MySQL apart. seekdb reports e.g. "5.7.25-OceanBase seekdb-v1.4.0.0"
 * (case varies), OceanBase "5.7.25-OceanBase_CE-v4.4.2.1"; OB_VERSION() is not used because seekdb always
 * answers 4.3.5.3 there. @@version_comment is the fallback when VERSION() is not conclusive.
 */
export function parseServerVersion(rawVersion: string, rawComment = ''): ServerInfo {
  const base = { rawVersion, rawComment };
  for (const text of [rawVersion, rawComment]) {
    const s = SEEKDB.exec(text);
    if (s) return { ...base, product: 'seekdb', ...version(s[1]) };
  }
  for (const text of [rawVersion, rawComment]) {
    if (/seekdb/i.test(text)) return { ...base, product: 'seekdb', version: [], versionText: 'unknown' };
    const o = OCEANBASE.exec(text);
    if (o) return { ...base, product: 'oceanbase', ...version(o[1]) };
  }
  if (/oceanbase/i.test(rawVersion) || /oceanbase/i.test(rawComment)) {
    return { ...base, product: 'oceanbase', version: [], versionText: 'unknown' };
  }
  const m = MARIADB.exec(rawVersion);
  if (m || /mariadb/i.test(rawComment)) {
    return { ...base, product: 'mariadb', ...version((m ?? LEADING.exec(rawVersion))?.[1] ?? '') };
  }
  const l = LEADING.exec(rawVersion);
  if (l) return { ...base, product: 'mysql', ...version(l[1]) };
  return { ...base, product: 'unknown', version: [], versionText: 'unknown' };
}

function version(text: string): { version: number[]; versionText: string } {
  const parts = text.split('.').filter(Boolean).map(Number);
  return { version: parts, versionText: parts.length ? parts.join('.') : 'unknown' };
}

/** a >= b for dotted versions ([4,5] >= [4,5,0]). */
export function versionAtLeast(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

export function describeServer(s: ServerInfo): string {
  const name = {
    oceanbase: 'OceanBase',
    seekdb: 'seekdb',
    mariadb: 'MariaDB',
    mysql: 'MySQL',
    unknown: 'an unknown server',
  }[s.product];
  return `${name} ${s.versionText} (VERSION() = '${s.rawVersion}')`;
}

export async function detectServer(knex: Knex): Promise<ServerInfo> {
  const [rows] = (await knex.raw('SELECT VERSION() AS v, @@version_comment AS c')) as [
    Array<{ v: string; c: string | null }>,
  ];
  return parseServerVersion(String(rows[0]?.v ?? ''), String(rows[0]?.c ?? ''));
}
