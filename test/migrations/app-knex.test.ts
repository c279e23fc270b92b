import { createSparseMigrator } from '../../src/migrator/umzug';
import { silentLogger } from '../../src/util/logger';
import { portableConfig } from '../support/backfill';
import { createMemoriesTable, createTestDatabase, type TestDatabase } from '../support/db';

describe("the application's knex", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('app_knex');
    await createMemoriesTable(db.knex);
  });
  afterAll(async () => db.drop());

  test('migrating through it leaves its userParams as they were and the instance usable', async () => {
    const appKnex = db.knex.withUserParams({ app: 'mine' });
    const m = createSparseMigrator({ config: portableConfig(db), logger: silentLogger, knex: appKnex });
    try {
      expect((await m.umzug.up()).map((x) => x.name)).toHaveLength(1);
      // The migrations got the package's configuration and logger through their own context...
      expect(Object.keys((await m.knex()).userParams)).toEqual(expect.arrayContaining(['sparseVector', 'logger']));
    } finally {
      await m.close();
    }
    // ...but nothing was written into the application's instance, and close() left it open.
    expect(appKnex.userParams).toEqual({ app: 'mine' });
    const [rows] = (await appKnex.raw('SELECT 1 AS one')) as [Array<{ one: number }>];
    expect(rows[0].one).toBe(1);
  });
});
