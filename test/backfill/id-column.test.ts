import { checkTable, upgrade } from '../support/backfill';
import { umzug } from '../support/cli';
import { createMemoriesTable, createTestDatabase, insertSampleMemories, type TestDatabase } from '../support/db';

/**
 * The backfill pages and writes by SPARSE_ID_FIELD: it must be the primary key or a UNIQUE NOT NULL
 * column on its own. Anything else is refused before a row is written, naming the column.
 */
const HINT =
  '  Set SPARSE_ID_FIELD (idColumn) to such a column (powermem tables: id, the primary key), or add a unique key on a NOT NULL column. Nothing was changed.';

describe('the id column must identify one row', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('idcol');
    await createMemoriesTable(db.knex);
    await insertSampleMemories(db.knex, { count: 40, emptyRate: 0 });
    await db.knex('memories').update({ user_id: 'alice' }); // every row: one user
    await upgrade(db);
    // A composite primary key, a nullable unique column, and a unique NOT NULL column that is not the key.
    for (const [table, ddl] of [
      ['composite', 'tenant INT NOT NULL, id BIGINT NOT NULL, document TEXT NULL, PRIMARY KEY (tenant, id)'],
      [
        'nullable',
        'pk INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uid BIGINT NULL, document TEXT NULL, UNIQUE KEY uid_key (uid)',
      ],
      [
        'alternate',
        'pk INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uid BIGINT NOT NULL, document TEXT NULL, UNIQUE KEY uid_key (uid)',
      ],
    ]) {
      await db.knex.raw(`CREATE TABLE ${table} (${ddl})`);
      const rows = Array.from({ length: 30 }, (_, i) => ({
        ...(table === 'composite' ? { tenant: i % 2, id: i } : { uid: i + 1 }),
        document: `note number ${i} about apples`,
      }));
      await db.knex(table).insert(rows);
      await db.knex.raw(`ALTER TABLE ${table} ADD COLUMN sparse_embedding JSON NULL`); // as the portable upgrade adds it
    }
  });
  afterAll(async () => db.drop());

  async function snapshot(table: string): Promise<string> {
    const [create] = await db.knex.raw(`SHOW CREATE TABLE ${table}`);
    const [sum] = await db.knex.raw(`CHECKSUM TABLE ${table}`);
    const seeds = (await db.knex.schema.hasTable('sparse_vector_seeds'))
      ? await db.knex('sparse_vector_seeds').select('*')
      : [];
    return JSON.stringify([create[0]['Create Table'], sum[0].Checksum, seeds]);
  }

  test.each([
    [
      'a non-unique column (user_id)',
      'memories',
      'user_id',
      "Error [ID_COLUMN_INVALID]: The id column 'user_id' of table 'memories' is not unique (no primary key or unique key on it alone); the backfill needs the primary key, or a UNIQUE NOT NULL column, on its own.",
    ],
    [
      'a column of a composite primary key',
      'composite',
      'id',
      "Error [ID_COLUMN_INVALID]: The id column 'id' of table 'composite' is only part of the composite primary key (tenant, id); the backfill needs the primary key, or a UNIQUE NOT NULL column, on its own.",
    ],
    [
      'a unique column that allows NULL',
      'nullable',
      'uid',
      "Error [ID_COLUMN_INVALID]: The id column 'uid' of table 'nullable' is unique but allows NULL; the backfill needs the primary key, or a UNIQUE NOT NULL column, on its own.",
    ],
  ])('%s is refused before anything is written', async (_name, table, idField, error) => {
    const env = db.env({
      SPARSE_VECTOR_STORAGE: 'json',
      OCEANBASE_COLLECTION: table,
      SPARSE_ID_FIELD: idField,
      OCEANBASE_TEXT_FIELD: 'document',
    });
    const before = await snapshot(table);
    for (const args of [['seed'], ['seed', '--dry-run']]) {
      const r = await umzug([...args, '--progress', 'none'], env);
      expect(r.stderr.split('\n').slice(0, 2)).toEqual([error, HINT]);
      expect(r.code).toBe(1);
    }
    expect(await snapshot(table)).toBe(before);
  });

  test('a UNIQUE NOT NULL column that is not the primary key is accepted', async () => {
    const env = db.env({
      SPARSE_VECTOR_STORAGE: 'json',
      OCEANBASE_COLLECTION: 'alternate',
      SPARSE_ID_FIELD: 'uid',
      SPARSE_BACKFILL_DELAY: '0',
    });
    const r = await umzug(['seed', '--batch-size', '7', '--progress', 'none'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [[left]] = await db.knex.raw('SELECT COUNT(*) AS n FROM alternate WHERE sparse_embedding IS NULL');
    expect(Number(left.n)).toBe(0);
    expect((await checkTable(db, undefined, 'memories')).embedded).toBe(0); // the refused runs wrote nothing
  });
});
