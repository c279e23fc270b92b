import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { configFromEnv, resolveConfig } from '../../src/config/config';
import { parseDatabaseUrl } from '../../src/config/connection-config';
import { connectionFromEnv } from '../../src/config/connection-env';
import { umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, oceanbaseBesidePostgresEnv, type TestDatabase } from '../support/db';

const OB = {
  OCEANBASE_HOST: 'ob.example',
  OCEANBASE_PORT: '2881',
  OCEANBASE_USER: 'root@tenant#cluster',
  OCEANBASE_PASSWORD: 'pw-ob-1234',
  OCEANBASE_DATABASE: 'powermem',
};

describe('which database: SPARSE_VECTOR_DATABASE_URL, then OCEANBASE_*, then a MySQL DATABASE_URL', () => {
  test('SPARSE_VECTOR_DATABASE_URL wins over OCEANBASE_* and DATABASE_URL', () => {
    const r = connectionFromEnv({
      ...OB,
      DATABASE_URL: 'mysql://a:b@app-db/app',
      SPARSE_VECTOR_DATABASE_URL: 'mysql://svm:pw@svm-db:3307/memdb',
    });
    expect({
      source: r.source,
      host: r.connection?.host,
      port: r.connection?.port,
      database: r.connection?.database,
      notices: r.notices,
    }).toEqual({
      source: 'SPARSE_VECTOR_DATABASE_URL',
      host: 'svm-db',
      port: 3307,
      database: 'memdb',
      notices: [],
    });
  });

  test('OCEANBASE_* wins over a MySQL DATABASE_URL', () => {
    const r = connectionFromEnv({ ...OB, DATABASE_URL: 'mysql://a:b@app-db/app' });
    expect({ source: r.source, host: r.connection?.host, user: r.connection?.user, notices: r.notices }).toEqual({
      source: 'OCEANBASE_*',
      host: 'ob.example',
      user: 'root@tenant#cluster',
      notices: [],
    });
  });

  test("the application's postgres DATABASE_URL is ignored with a notice when OCEANBASE_* is set", () => {
    const config = configFromEnv({ ...OB, DATABASE_URL: 'postgres://app:secret-pg-pw@pg/app' });
    expect(config.connection?.host).toBe('ob.example');
    expect(config.notices).toEqual([
      'DATABASE_URL (postgres://…) is not a MySQL-protocol URL: ignored; using OCEANBASE_HOST/OCEANBASE_DATABASE.',
    ]);
    expect(config.notices.join('')).not.toContain('secret-pg-pw');
  });

  test('a postgres DATABASE_URL alone is refused, naming SPARSE_VECTOR_DATABASE_URL as the fix', () => {
    expect(() => configFromEnv({ DATABASE_URL: 'postgres://app:pw@pg/app' })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        hint: expect.stringContaining('set SPARSE_VECTOR_DATABASE_URL for this package'),
      }),
    );
  });

  test('a connection given in code skips the environment (a postgres DATABASE_URL does not get in the way)', () => {
    const config = resolveConfig({ databaseUrl: 'mysql://u:p@db/x' }, { DATABASE_URL: 'postgres://app:pw@pg/app' });
    expect(config.connection?.host).toBe('db');
  });

  test("powermem's vector_store.config: its keys, the table's defaults (port 2881, user root), before the environment", () => {
    const vs = (config: Record<string, unknown>) =>
      resolveConfig({ vector_store: { provider: 'oceanbase', config } }, OB).connection;
    expect(vs({ host: 'vs-db', db_name: 'mem', database: 'other' })).toEqual({
      host: 'vs-db',
      port: 2881,
      user: 'root',
      password: '',
      database: 'mem',
    });
    expect(vs({ host: 'vs-db', port: '3310', user: 'u', password: 'pw-vs-1', database: 'other' })).toEqual({
      host: 'vs-db',
      port: 3310,
      user: 'u',
      password: 'pw-vs-1',
      database: 'other',
    });
    // Without a host the environment's connection is used.
    expect(vs({ db_name: 'mem' })?.host).toBe('ob.example');
    expect(() => vs({ host: 'vs-db', port: true, db_name: 'mem' })).toThrow(
      'vector_store.config.port=true is not an integer between 1 and 65535.',
    );
  });
});

describe('TLS settings in the URL: supported through mysql2 ssl options, or refused; never dropped', () => {
  test('ssl=true, ssl JSON, ssl-ca file and ssl-reject-unauthorized become mysql2 ssl options', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svm-ca-'));
    const ca = path.join(dir, 'ca.pem');
    fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    try {
      expect(parseDatabaseUrl('mysql://u:p@h/db?ssl=true').ssl).toEqual({});
      expect(parseDatabaseUrl('mysql://u:p@h/db?ssl=false').ssl).toBeUndefined();
      expect(parseDatabaseUrl('mysql://u:p@h/db').ssl).toBeUndefined();
      expect(
        parseDatabaseUrl(`mysql://u:p@h/db?ssl=${encodeURIComponent('{"rejectUnauthorized":false}')}`).ssl,
      ).toEqual({ rejectUnauthorized: false });
      expect(
        parseDatabaseUrl(`mysql://u:p@h/db?ssl-ca=${encodeURIComponent(ca)}&ssl-reject-unauthorized=true`).ssl,
      ).toEqual({ ca: fs.readFileSync(ca, 'utf8'), rejectUnauthorized: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unknown URL parameter or a bad ssl value is refused with the supported list', () => {
    expect(() => parseDatabaseUrl('mysql://u:p@h/db?charset=latin1')).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('"charset"'),
        hint: expect.stringContaining('ssl=true'),
      }),
    );
    expect(() => parseDatabaseUrl('mysql://u:p@h/db?ssl=maybe')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => parseDatabaseUrl('mysql://u:p@h/db?ssl-ca=/nonexistent/ca.pem')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('ENOENT') }),
    );
  });
});

describe('connection settings as the CLI uses them', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('conn_settings');
    await createMemoriesTable(db.knex);
  });
  afterAll(async () => db.drop());

  test('?ssl=true reaches the driver: against a server without TLS the connection fails saying so', async () => {
    const r = await umzug(['pending'], { ...db.env(), DATABASE_URL: `${db.url}?ssl=true` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/secure conn/i);
  });

  test("OCEANBASE_* next to the app's postgres DATABASE_URL: a notice on stderr, and the command works", async () => {
    const env = oceanbaseBesidePostgresEnv(db);
    const r = await umzug(['pending'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Note: DATABASE_URL (postgres://…) is not a MySQL-protocol URL: ignored');
    expect(r.stdout.trim()).toBe('20250601000000_add_sparse_vector');
  });
});

test(".env values holding '#' must be quoted, as .env.example says (dotenv starts a comment there)", () => {
  const example = fs.readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
  expect(example).toMatch(/Quote any value that holds '#'/);
  expect(dotenv.parse('OCEANBASE_USER=root@tenant#cluster').OCEANBASE_USER).toBe('root@tenant');
  expect(dotenv.parse('OCEANBASE_USER="root@tenant#cluster"').OCEANBASE_USER).toBe('root@tenant#cluster');
});
