import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { parseDatabaseUrl } from '../../src/config/connection-config';
import { mysql2Options } from '../../src/db/knex';
import { sparseVector, umzug } from '../support/cli';
import { serverUrl } from '../support/db';
import { createMemoriesTable, insertSampleMemories } from '../../testing/sample-memories';

/**
 * A database named like `my-app` is legal on MySQL/OceanBase/MariaDB when quoted: the whole workflow
 * (upgrade, backfill, verify, downgrade) works on it.
 */
describe('a database whose name needs quoting (my-app)', () => {
  const name = `my-app-${randomBytes(3).toString('hex')}`;
  let admin: Knex;
  let knex: Knex;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    const base = parseDatabaseUrl(serverUrl());
    admin = knexFactory({
      client: 'mysql2',
      connection: { ...mysql2Options(base), database: undefined },
      pool: { min: 0, max: 1 },
    });
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4', [name]);
    knex = knexFactory({
      client: 'mysql2',
      connection: mysql2Options({ ...base, database: name }),
      pool: { min: 0, max: 2 },
    });
    await createMemoriesTable(knex);
    await insertSampleMemories(knex, { count: 30 });
    const u = new URL(serverUrl());
    u.pathname = '/' + name;
    env = { ...process.env, DATABASE_URL: u.toString(), SPARSE_VECTOR_STORAGE: 'json' };
  });
  afterAll(async () => {
    await knex.destroy();
    await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
    await admin.destroy();
  });

  test('umzug up, umzug seed, sparse-vector verify and the downgrade script all work on it', async () => {
    const up = await umzug(['up'], env);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const seed = await umzug(['seed'], env);
    expect(seed.code).toBe(0);
    const [[{ missing }]] = await knex.raw(
      "SELECT COUNT(*) AS missing FROM memories WHERE sparse_embedding IS NULL AND document <> ''",
    );
    expect(Number(missing)).toBe(0);
    const verify = await sparseVector(['verify', '--json'], env);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ upgraded: true });
    const down = await sparseVector(['run', 'downgrade-sparse-vector', '--yes'], env);
    expect(down.code).toBe(0);
    expect(await knex.schema.hasColumn('memories', 'sparse_embedding')).toBe(false);
  });

  test('database names the server would refuse are refused before connecting, with the rule and a fix', async () => {
    const u = new URL(serverUrl());
    u.pathname = '/' + encodeURIComponent('trailing ');
    const r = await umzug(['up'], { ...env, DATABASE_URL: u.toString() });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      'Error [IDENTIFIER_INVALID]: Invalid database name "trailing " (from the connection settings): it ends with a space.',
      '  Use the name of an existing database: 1 to 64 characters, not ending with a space (e.g. "memories" or "my-app").',
    ]);
  });
});
