import { randomBytes } from 'node:crypto';
import { umzug, type CliResult } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';
import { resetSchema, upgrade } from '../support/backfill';

/**
 * A database user without the privileges a step needs: the error names the missing privilege, the table and
 * the step (CREATE for the ledgers, ALTER/INDEX for the upgrade, UPDATE for the backfill), says how to grant
 * it, and shows no SQL statement. The user is created on the private test server for this file.
 */
describe('a user without the privileges a step needs', () => {
  let db: TestDatabase;
  const user = `svm_ro_${randomBytes(3).toString('hex')}`;
  const password = `ro-${randomBytes(6).toString('hex')}`;
  let host: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    db = await createTestDatabase('privileges');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 20 });
    const url = new URL(db.url);
    host = url.hostname;
    await db.knex.raw('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
    await db.knex.raw('GRANT SELECT ON ??.* TO ?@?', [db.name, user, host]);
    url.username = user;
    url.password = password;
    env = { ...process.env, DATABASE_URL: url.toString(), SPARSE_VECTOR_STORAGE: 'json' };
  });
  afterAll(async () => {
    await db.knex.raw('DROP USER IF EXISTS ?@?', [user, host]);
    await db.drop();
  });

  beforeEach(async () => resetSchema(db)); // each test starts before the upgrade (any order)

  const schema = async () => (await db.knex.raw('SHOW CREATE TABLE memories'))[0][0]['Create Table'];
  const stored = async () =>
    Number((await db.knex.raw('SELECT COUNT(*) AS n FROM memories WHERE sparse_embedding IS NOT NULL'))[0][0].n);

  /** The error's two lines (what is missing for which step; how to grant it), exit 1, and no SQL shown. */
  function expectClear(r: CliResult, privilege: string, table: string, step: string) {
    const lines = r.stderr.slice(r.stderr.indexOf('Error [')).split('\n');
    expect(lines[0]).toBe(
      `Error [PERMISSION_DENIED]: The database user '${user}' lacks the ${privilege} privilege on table '${table}', needed ${step}.`,
    );
    expect(lines[1]).toBe(
      `  Grant it (GRANT ${privilege} ON \`${db.name}\`.\`${table}\` TO '${user}'@'${host}';) or run this step as a user that has it. ` +
        'The upgrade needs ALTER and INDEX on the table, the backfill UPDATE, the ledgers and the term statistics CREATE, INSERT, UPDATE and DELETE.',
    );
    expect(r.stderr.match(/Error \[/g)).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toMatch(/create table|alter table|update `|insert into|command denied/i);
    expect(r.code).toBe(1);
  }

  test('SELECT only: the upgrade asks for ALTER on the table; nothing changed', async () => {
    const before = await schema();
    expectClear(
      await umzug(['up'], env),
      'ALTER',
      'memories',
      'for the upgrade (adding the sparse_embedding column and its index)',
    );
    expect(await schema()).toBe(before);
  });

  test('upgraded by an administrator, SELECT only: the backfill asks for CREATE for its ledger, then (ledgers granted) for UPDATE; no row written', async () => {
    await upgrade(db);
    expectClear(
      await umzug(['seed'], env),
      'CREATE',
      'sparse_vector_seeds',
      "to keep its ledger table 'sparse_vector_seeds'",
    );
    expect(await stored()).toBe(0);
    for (const t of ['sparse_vector_migrations', 'sparse_vector_seeds', 'sparse_vector_term_stats'])
      await db.knex.raw('GRANT ALL ON ??.?? TO ?@?', [db.name, t, user, host]);
    expectClear(await umzug(['seed'], env), 'UPDATE', 'memories', 'for the backfill (writing sparse_embedding)');
    expect(await stored()).toBe(0);
  });
});
