import { resolveConfig } from '../../src/config/config';
import { doctor, formatDoctorReport } from '../../src/doctor/doctor';
import { sparseVector } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/db';

async function scratchTables(db: TestDatabase): Promise<string[]> {
  const [rows] = (await db.knex.raw(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'sparse\\_doctor\\_%'",
  )) as [Array<{ t: string }>];
  return rows.map((r) => r.t);
}

const CHECKS = [
  'server',
  'scratch table',
  'column type',
  'index DDL',
  'schema state (information_schema)',
  'literal written and read back',
  'batched write',
  'search',
  'GET_LOCK',
  'functions (MD5, CRC32, ORD, ASCII, REGEXP)',
  're-embed rewrite (MD5 of the vector)',
  'downgrade (DROP INDEX, DROP COLUMN)',
  'scratch table dropped',
];

describe('doctor on MariaDB', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('doctor');
  });
  afterAll(async () => db.drop());

  test('portable mode: every JSON form passes, one check each, the scratch table is gone', async () => {
    const report = await doctor({ config: resolveConfig({ databaseUrl: db.url, storage: 'json' }, {}) });
    expect(report.checks.map((c) => [c.name, c.status])).toEqual(CHECKS.map((n) => [n, 'ok']));
    expect(report.ok).toBe(true);
    expect(report.server).toMatch(/^MariaDB \d+\.\d+/);
    expect(report.checks.find((c) => c.name === 'column type')!.detail).toBe(
      `JSON column: ALTER TABLE \`${report.scratchTable}\` ADD COLUMN \`sparse_embedding\` JSON NULL`,
    );
    expect(report.checks.find((c) => c.name === 'literal written and read back')!.detail).toContain(
      'wrote [[1,0.5],[12,1.5],[499999,0.25]]',
    );
    // The shape a whole-table backfill starts with on MariaDB (src/backfill/write-shape.ts).
    expect(report.checks.find((c) => c.name === 'batched write')!.detail).toMatch(
      /^2 rows in one batched UPDATE \(ids looked up in the batch by a prepared statement, over the id range\) with the MD5 guard/,
    );
    expect(await scratchTables(db)).toEqual([]);
  });

  test('a server that rejects every batched shape: that check fails with its reason, the per-row fallback passes', async () => {
    process.env.SPARSE_FAILPOINT = 'writer:reject-batched';
    try {
      const report = await doctor({ config: resolveConfig({ databaseUrl: db.url, storage: 'json' }, {}) });
      const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
      expect(byName['batched write']).toMatchObject({ status: 'failed' });
      expect(byName['batched write'].error).toMatch(/rejected every shape of it: .*failpoint writer:reject-batched/);
      expect(byName['per-row write (the fallback)']).toMatchObject({
        status: 'ok',
        detail: expect.stringContaining('the backfill will use this form'),
      });
      expect(byName.search.status).toBe('ok');
      expect(await scratchTables(db)).toEqual([]);
    } finally {
      delete process.env.SPARSE_FAILPOINT;
    }
  });

  test('native storage on a server without it: fails with the server named and its own errors, still drops the scratch table', async () => {
    const report = await doctor({ config: resolveConfig({ databaseUrl: db.url, storage: 'native' }, {}) });
    expect(report.ok).toBe(false);
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName.server.status).toBe('failed');
    expect(byName.server.detail).toMatch(
      /^MariaDB [\d.]+ \(VERSION\(\) = '[^']+'\) has no native sparse vectors: they need seekdb or OceanBase >= 4\.5\.0/,
    );
    expect(byName['scratch table'].status).toBe('ok');
    expect(byName['column type']).toMatchObject({
      status: 'failed',
      detail: expect.stringContaining('ADD COLUMN `sparse_embedding` SPARSEVECTOR'),
    });
    // MariaDB 10.11: ER_... (4161): Unknown data type: 'SPARSEVECTOR' (older servers: a syntax error, 1064).
    expect(byName['column type'].error).toMatch(
      /^\w+ \(\d+\): (Unknown data type: 'SPARSEVECTOR'|You have an error in your SQL syntax)/,
    );
    for (const n of [
      'index DDL',
      'schema state (information_schema)',
      'literal written and read back',
      'batched write',
      'search',
      're-embed rewrite (MD5 of the vector)',
      'downgrade (DROP INDEX, DROP COLUMN)',
    ])
      expect(byName[n].status).toBe('skipped');
    expect(byName['GET_LOCK'].status).toBe('ok');
    expect(byName['scratch table dropped'].status).toBe('ok');
    expect(await scratchTables(db)).toEqual([]);
    const lines = formatDoctorReport(report);
    expect(lines[0]).toMatch(
      /^Doctor: MariaDB [\d.]+ .*, native storage \(SPARSEVECTOR\), scratch table sparse_doctor_[0-9a-f]{8}$/,
    );
    expect(lines).toContain(`✗ column type: ${byName['column type'].detail} -> ${byName['column type'].error}`);
  });

  test('CLI: exit 0 with one line per check in portable mode; exit 1 naming the server in native mode', async () => {
    const ok = await sparseVector(['doctor'], db.env({ SPARSE_VECTOR_STORAGE: 'json' }));
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines).toHaveLength(CHECKS.length + 2);
    expect(lines.slice(1, -1).map((l) => l.slice(0, 2))).toEqual(CHECKS.map(() => '✓ '));
    expect(lines[lines.length - 1]).toBe(`Doctor: all ${CHECKS.length} checks passed.`);

    const failed = await sparseVector(['doctor'], db.env({ SPARSE_VECTOR_STORAGE: 'native' }));
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/✗ server: MariaDB [\d.]+ .* has no native sparse vectors/);
    expect(failed.stdout).toMatch(
      /✗ column type: .* -> \w+ \(\d+\): (Unknown data type: 'SPARSEVECTOR'|You have an error in your SQL syntax)/,
    );
    expect(await scratchTables(db)).toEqual([]);

    const json = await sparseVector(['doctor', '--json'], db.env({ SPARSE_VECTOR_STORAGE: 'json' }));
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, storage: 'json' });
  });
});
