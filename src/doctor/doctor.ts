import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { requireConnection, type SparseVectorConfig } from '../config/config';
import { checkConnection, createKnex } from '../db/knex';
import { acquireLock, lockName } from '../db/lock';
import { describeServer, detectServer } from '../db/server-info';
import type { SparseDialect, SparseTarget } from '../dialect/dialect';
import { doctorDialect, supportsNativeSparse } from '../dialect/select-dialect';
import { createIndex, downgradeSparseSchema, readSchemaState } from '../schema/sparse-schema';
import { createSparseVector, sparseEquals, toOceanBaseLiteral } from '../sparse/sparse-vector';
import { silentLogger, type Logger } from '../util/logger';
import { countEligible, hasText } from '../backfill/queries';
import { rewriteSql } from '../backfill/reembed';
import { KeysetReader } from '../backfill/reader';
import { chooseBatchShape, describeShape } from '../backfill/write-shape';
import { writeBatch, WritePlan, writePerRow, type PendingWrite } from '../backfill/writer';
import { quoteIdentifier as q } from '../identifiers';
import { serverError, type DoctorCheck, type DoctorReport } from './report';

/** The scratch table's own columns (shaped like powermem's table; not the configured ones). */
const SCRATCH_ID = 'id';
const SCRATCH_TEXT = 'document';

export type { DoctorCheck, DoctorReport } from './report';
export { formatDoctorReport } from './report';

export interface DoctorOptions {
  config: SparseVectorConfig;
  /** Use the application's knex instance (it is not destroyed). */
  knex?: Knex;
  /** Receives the statements (debug). */
  logger?: Logger;
}

/** The vector written and searched for: keys at both ends of what the sparse index accepts. */
const PROBE = createSparseVector([
  [1, 0.5],
  [12, 1.5],
  [499_999, 0.25],
]);

interface Probe {
  knex: Knex;
  dialect: SparseDialect;
  target: SparseTarget;
  checks: DoctorCheck[];
  log: Logger;
}

/**
 * Prove on the configured server every statement form the configured storage uses, in a scratch table that
 * is created for the run and always dropped: the column type, the index DDL (with its fallbacks), a vector
 * written and read back, the reader's and writer's statements (MD5, CRC32, ORD, ASCII, REGEXP, the batched
 * UPDATE in the shape a run starts with), an (APPROXIMATE, on native servers) search that finds the row and
 * GET_LOCK.
 * One check per form, with the server's own error when it fails. Never throws for a failed check: `ok` is
 * false then.
 */
export async function doctor(options: DoctorOptions): Promise<DoctorReport> {
  const { config } = options;
  const log = options.logger ?? silentLogger;
  const connection = requireConnection(config);
  const knex = options.knex ?? createKnex(connection, { pool: 2 });
  const scratch = `sparse_doctor_${randomBytes(4).toString('hex')}`;
  const checks: DoctorCheck[] = [];
  let server = 'unknown';
  try {
    await checkConnection(knex, connection);
    const info = await detectServer(knex);
    server = describeServer(info);
    const dialect = doctorDialect(info, config.storage, config.indexParams);
    const native = config.storage === 'native';
    checks.push({
      name: 'server',
      status: !native || supportsNativeSparse(info) ? 'ok' : 'failed',
      detail: native
        ? supportsNativeSparse(info)
          ? `${server}: native sparse vectors (seekdb, or OceanBase >= 4.5.0)`
          : `${server} has no native sparse vectors: they need seekdb or OceanBase >= 4.5.0 (checking each statement anyway)`
        : `${server}: portable mode (JSON column, exact search in SQL)`,
    });
    const target: SparseTarget = {
      table: scratch,
      idColumn: SCRATCH_ID,
      textColumn: SCRATCH_TEXT,
      sparseColumn: 'sparse_embedding',
      sparseIndex: `${scratch}_idx`,
    };
    await runChecks({ knex, dialect, target, checks, log }, connection.database, (c) =>
      acquireLock(connection, lockName('doctor', c, scratch), { timeoutSeconds: 0 }),
    );
  } catch (err) {
    checks.push({ name: 'connect', status: 'failed', detail: 'could not reach the server', error: serverError(err) });
  } finally {
    await dropScratch(knex, scratch, checks);
    if (!options.knex) await knex.destroy();
  }
  return { server, storage: config.storage, scratchTable: scratch, checks, ok: checks.every((c) => c.status === 'ok') };
}

type LockProbe = (database: string) => Promise<{ release(): Promise<void> }>;

async function runChecks(p: Probe, database: string, lock: LockProbe): Promise<void> {
  const { knex, dialect, target } = p;
  const created = await step(
    p,
    'scratch table',
    `CREATE TABLE ${q(target.table)} (${q(target.idColumn)} BIGINT NOT NULL PRIMARY KEY, ${q(target.textColumn)} LONGTEXT NULL) CHARACTER SET utf8mb4`,
  );
  const column =
    created && (await step(p, 'column type', dialect.addColumnSql(target), `${dialect.columnType} column`));
  await checkIndex(p, column);
  await check(p, 'schema state (information_schema)', column, async () => {
    const state = await readSchemaState({ knex, dialect, target });
    if (!state.upgraded)
      throw new Error(
        `information_schema shows ${JSON.stringify(state.column)} and index ${state.indexExists ? 'present' : 'missing'}: the upgrade would not be recognised`,
      );
    return `column ${state.column!.columnType} recognised as ${dialect.columnType}${dialect.hasIndex ? ', index listed in STATISTICS' : ''}`;
  });
  const literal = await checkLiteral(p, column);
  const batched = await checkWrites(p, column);
  await check(p, 'search', literal || batched, async () => {
    const s = dialect.searchSql(target, PROBE, 3);
    const [rows] = (await knex.raw(s.sql, s.bindings)) as [Array<{ id: unknown }>];
    if (String(rows[0]?.id) !== '1')
      throw new Error(
        `the row written with the probe vector was not found first (got ${rows.map((r) => String(r.id)).join(', ') || 'no rows'})`,
      );
    return `${dialect.hasIndex ? 'APPROXIMATE search' : 'exact search'} found the row: ${s.sql}`;
  });
  await check(p, 'GET_LOCK', true, async () => {
    const held = await lock(database);
    await held.release();
    return 'GET_LOCK / IS_FREE_LOCK / IS_USED_LOCK / RELEASE_LOCK on a dedicated connection';
  });
  await check(p, 'functions (MD5, CRC32, ORD, ASCII, REGEXP)', column, async () => checkFunctions(p));
  await check(p, 're-embed rewrite (MD5 of the vector)', batched, async () => checkRewrite(p));
  await check(p, 'downgrade (DROP INDEX, DROP COLUMN)', column, async () => {
    const report = await downgradeSparseSchema({ knex, dialect, target }, p.log);
    if (!report.columnDropped) throw new Error('the column was not dropped');
    return report.statements.join('; ');
  });
}

/** One statement as one check; true when it ran. */
async function step(p: Probe, name: string, sql: string, what?: string): Promise<boolean> {
  return check(p, name, true, async () => {
    p.log.debug(sql);
    await p.knex.raw(sql);
    return what ? `${what}: ${sql}` : sql;
  });
}

/** Run `fn` as the check `name` (skipped when a check it needs failed); true when it passed. */
async function check(p: Probe, name: string, runnable: boolean, fn: () => Promise<string>): Promise<boolean> {
  if (!runnable) {
    p.checks.push({ name, status: 'skipped', detail: 'skipped: a check it needs failed' });
    return false;
  }
  try {
    p.checks.push({ name, status: 'ok', detail: await fn() });
    return true;
  } catch (err) {
    p.checks.push({ name, status: 'failed', detail: (err as { sql?: string }).sql ?? name, error: serverError(err) });
    return false;
  }
}

async function checkIndex(p: Probe, column: boolean): Promise<void> {
  const sql = p.dialect.createIndexSql(p.target);
  if (!sql) {
    p.checks.push({
      name: 'index DDL',
      status: 'ok',
      detail: 'none in portable mode (search computes the exact inner product)',
    });
    return;
  }
  await check(p, 'index DDL', column, async () => {
    const used = await createIndex({ knex: p.knex, dialect: p.dialect, target: p.target }, sql, p.log);
    return used ? `WITH (${used.params}) from ${used.source}: ${used.sql}` : sql;
  });
}

/** The vector bound as the dialect encodes it, read back and decoded equal. */
async function checkLiteral(p: Probe, runnable: boolean): Promise<boolean> {
  const { knex, dialect, target } = p;
  return check(p, 'literal written and read back', runnable, async () => {
    const value = dialect.encode(PROBE);
    await knex.raw(`INSERT INTO ${q(target.table)} (id, document, ${q(target.sparseColumn)}) VALUES (1, ?, ?)`, [
      'porcelain teapot (doctor probe)',
      value,
    ]);
    const [rows] = (await knex.raw(`SELECT ${q(target.sparseColumn)} AS v FROM ${q(target.table)} WHERE id = 1`)) as [
      Array<{ v: unknown }>,
    ];
    const back = dialect.decode(rows[0]?.v);
    if (!sparseEquals(back, PROBE))
      throw new Error(`read back ${toOceanBaseLiteral(back)}, wrote ${toOceanBaseLiteral(PROBE)}`);
    return `wrote ${value}, read back ${typeof rows[0]?.v === 'string' ? rows[0].v : JSON.stringify(rows[0]?.v)}`;
  });
}

/** The reader's keyset read and the writer's batched UPDATE (and the per-row fallback if that fails). */
async function checkWrites(p: Probe, runnable: boolean): Promise<boolean> {
  const { knex, dialect, target } = p;
  let writes: PendingWrite[] = [];
  const batched = await check(p, 'batched write', runnable, async () => {
    await knex.raw(`INSERT INTO ${q(target.table)} (id, document) VALUES (2, ?), (3, ?)`, [
      'green tea in the morning',
      'a walk by the lighthouse',
    ]);
    const pending = await new KeysetReader(knex, target, undefined, 'CAST(? AS SIGNED)').next(10);
    writes = pending.map((r) => ({ id: r.id, hash: r.hash, value: dialect.encode(PROBE) }));
    // The shape a whole-table backfill with the local embedder starts with (it falls back from a rejected one).
    const run = { integerIds: true, wholeTable: true, counted: true };
    const plan = new WritePlan(await chooseBatchShape(knex, dialect, run));
    let rejected: string | undefined;
    const n = await writeBatch(knex, target, writes, 'CAST(? AS SIGNED)', (reason) => (rejected = reason), plan);
    if (rejected !== undefined) throw new Error(`the server rejected every shape of it: ${rejected}`);
    if (n !== 2) throw new Error(`wrote ${n} of the 2 rows`);
    return `2 rows in one batched UPDATE (${describeShape(plan.shape)}) with the MD5 guard (reader: ${pending.length} rows by keyset)`;
  });
  if (batched || !runnable || writes.length === 0) return batched;
  await knex
    .raw(`UPDATE ${q(target.table)} SET ${q(target.sparseColumn)} = NULL WHERE id IN (2, 3)`)
    .catch(() => undefined);
  return check(p, 'per-row write (the fallback)', true, async () => {
    const n = await writePerRow(knex, target, writes);
    if (n !== 2) throw new Error(`wrote ${n} of the 2 rows`);
    return '2 rows as per-row UPDATEs in one transaction: the backfill will use this form';
  });
}

async function checkFunctions(p: Probe): Promise<string> {
  // The texts the reader takes: hasText on literals, its ASCII shortcut (ORD, ASCII) and its regular expression.
  const [rows] = (await p.knex.raw(
    "SELECT MD5('abc') AS md5, CRC32('123') AS crc, ORD('a') AS ord, ASCII('a') AS ascii, " +
      `${hasText("'a b'")} AS text, ${hasText("' \\t'")} AS blank, ${hasText("' \\tb'")} AS late`,
  )) as [
    Array<{ md5: string; crc: unknown; ord: unknown; ascii: unknown; text: unknown; blank: unknown; late: unknown }>,
  ];
  const r = rows[0];
  const got =
    `MD5('abc')=${r.md5}, CRC32('123')=${String(r.crc)}, ORD/ASCII('a')=${String(r.ord)}/${String(r.ascii)}, ` +
    `text test ${String(r.text)}/${String(r.blank)}/${String(r.late)}`;
  if (
    r.md5 !== '900150983cd24fb0d6963f7d28e17f72' ||
    String(r.crc) !== '2286445522' ||
    Number(r.ord) !== 97 ||
    Number(r.ascii) !== 97 ||
    Number(r.text) !== 1 ||
    Number(r.blank) !== 0 ||
    Number(r.late) !== 1
  ) {
    throw new Error(`unexpected results: ${got}`);
  }
  const shards =
    (await countEligible(p.knex, p.target, { index: 0, count: 2 })) +
    (await countEligible(p.knex, p.target, { index: 1, count: 2 }));
  const all = await countEligible(p.knex, p.target);
  if (shards !== all) throw new Error(`MOD(CRC32(id), 2) shards count ${shards} rows, the table ${all}`);
  return `${got}; the reader's shard condition MOD(CRC32(id), n) splits the table exactly`;
}

/** The re-embed's read (MD5 of the stored vector) and its guarded in-place UPDATE (rewriteSql). */
async function checkRewrite(p: Probe): Promise<string> {
  const { knex, target: t } = p;
  const read = `SELECT MD5(${q(t.textColumn)}) AS h, MD5(${q(t.sparseColumn)}) AS vh FROM ${q(t.table)} WHERE id = 2`;
  const [[before]] = (await knex.raw(read)) as [Array<{ h: string; vh: string | null }>];
  if (!before?.vh) throw new Error('MD5 of the stored vector is NULL: the guard could never match');
  const sql = rewriteSql(t, 'CAST(? AS SIGNED)');
  const value = p.dialect.encode(createSparseVector([[7, 0.5]]));
  const [stale] = (await knex.raw(sql, [value, '2', before.h, 'not-the-hash'])) as [{ affectedRows: number }];
  const [written] = (await knex.raw(sql, [value, '2', before.h, before.vh])) as [{ affectedRows: number }];
  const [[after]] = (await knex.raw(read)) as [Array<{ vh: string | null }>];
  if (Number(stale.affectedRows) !== 0 || Number(written.affectedRows) !== 1 || after.vh === before.vh)
    throw new Error(
      `guarded rewrite: a stale hash wrote ${stale.affectedRows} rows, the current one ${written.affectedRows}`,
    );
  return `${sql} (a stale vector hash writes nothing, the current one replaces the vector in place)`;
}

async function dropScratch(knex: Knex, scratch: string, checks: DoctorCheck[]): Promise<void> {
  try {
    await knex.raw(`DROP TABLE IF EXISTS ${q(scratch)}`);
    checks.push({ name: 'scratch table dropped', status: 'ok', detail: `DROP TABLE IF EXISTS ${q(scratch)}` });
  } catch (err) {
    checks.push({
      name: 'scratch table dropped',
      status: 'failed',
      detail: `drop ${scratch} by hand`,
      error: serverError(err),
    });
  }
}
