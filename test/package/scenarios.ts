import fs from 'node:fs';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { installApp, snippet, userEnv, type InstalledApp } from './installed-app';

const OURS = '20250601000000_add_sparse_vector';

/** The app's own files, in the app's module style. */
function appFiles(kind: InstalledApp['kind']) {
  const esm = kind === 'module';
  const exp = (name: string, body: string) =>
    esm ? `export const ${name} = ${body};\n` : `exports.${name} = ${body};\n`;
  return {
    knexMigration:
      exp(
        'up',
        "(knex) => knex.schema.createTable('memories', (t) => { t.bigInteger('id').primary(); t.text('document'); })",
      ) + exp('down', "(knex) => knex.schema.dropTable('memories')"),
    knexSeed: exp(
      'seed',
      "async (knex) => { await knex('memories').del(); await knex('memories').insert([{ id: 1, document: 'The user keeps bees on the roof' }, { id: 2, document: 'The user drinks green tea' }]); }",
    ),
    umzugMigration:
      exp(
        'up',
        "async ({ context: knex }) => knex.schema.createTable('memories', (t) => { t.bigInteger('id').primary(); t.text('document'); })",
      ) + exp('down', "async ({ context: knex }) => knex.schema.dropTable('memories')"),
  };
}

async function columns(db: TestDatabase, table: string): Promise<string[]> {
  const [rows] = await db.knex.raw(
    'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [table],
  );
  return (rows as Array<{ c: string }>).map((r) => r.c);
}

/** npm's own warnings about this machine's npm configuration are not the command's output. */
function withoutNpmNotes(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !line.startsWith('npm warn'))
    .join('\n');
}

/** Everything an application does with the installed package, in a fresh app of one module kind. */
export function installedAppScenarios(kind: InstalledApp['kind']): void {
  let app: InstalledApp;
  // Each route gets a fresh database, so one route's leftovers cannot decide another's result.
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const files = appFiles(kind);

  beforeAll(async () => {
    app = await installApp(kind);
  }, 300_000);
  afterAll(() => app?.remove());
  beforeEach(async () => {
    db = await createTestDatabase(`pkg_${kind}`);
    env = userEnv({ DATABASE_URL: db.url });
  });
  afterEach(async () => db.drop());

  test("the app's knex with withSparseVector (README's knexfile): migrate:latest, status, seed:run, make, rollback --all", async () => {
    const knexfile =
      kind === 'module'
        ? snippet('// knexfile.js in an ES-module app ("type": "module" in package.json)')
        : snippet('// knexfile.js');
    app.write('knex/knexfile.js', knexfile);
    app.write('knex/.env', 'SPARSE_VECTOR_STORAGE=json\n');
    app.write('knex/migrations/20240101000000_create_memories.js', files.knexMigration);
    app.write('knex/seeds/01_memories.js', files.knexSeed);
    const knex = (...args: string[]) => app.run('npx', ['--no-install', 'knex', ...args], 'knex', env);

    const latest = await knex('migrate:latest');
    expect(withoutNpmNotes(latest.stderr)).toBe('');
    expect(latest.code).toBe(0);
    expect(latest.stdout).not.toMatch(/external module/); // no loader noise: the .js knexfile needs none
    const [ledger] = await db.knex.raw('SELECT name, batch FROM knex_migrations ORDER BY id');
    expect(ledger).toEqual([
      { name: '20240101000000_create_memories.js', batch: 1 },
      { name: OURS, batch: 1 },
    ]);
    expect(await columns(db, 'memories')).toEqual(['id', 'document', 'sparse_embedding']);

    const status = await knex('migrate:status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Found 2 Completed Migration file/files.');
    expect(status.stdout).toContain('No Pending Migration files Found.');

    const seed = await knex('seed:run');
    expect(seed.code).toBe(0);
    expect(seed.stdout).toContain('Ran 2 seed files');
    const [embedded] = await db.knex.raw('SELECT id FROM memories WHERE sparse_embedding IS NOT NULL ORDER BY id');
    expect(embedded).toEqual([{ id: '1' }, { id: '2' }]);

    const before = app.nodeModulesListing();
    const makeMigration = await knex('migrate:make', 'add_tags');
    const makeSeed = await knex('seed:make', 'more_memories');
    expect([makeMigration.code, makeSeed.code]).toEqual([0, 0]);
    expect(
      fs.readdirSync(path.join(app.dir, 'knex', 'migrations')).filter((f) => f.endsWith('_add_tags.js')),
    ).toHaveLength(1);
    expect(fs.readdirSync(path.join(app.dir, 'knex', 'seeds')).sort()).toEqual(['01_memories.js', 'more_memories.js']);
    expect(app.nodeModulesListing()).toEqual(before);
    fs.rmSync(path.join(app.dir, 'knex', 'seeds', 'more_memories.js'));

    const rollback = await knex('migrate:rollback', '--all');
    expect(rollback.code).toBe(0);
    expect((await db.knex.raw('SELECT name FROM knex_migrations'))[0]).toEqual([]);
    expect(await columns(db, 'memories')).toEqual([]);
  });

  test("the app's own Umzug with its own storage plus sparseVectorMigrations() (README's migrator.mjs)", async () => {
    app.write('umzug/migrator.mjs', snippet('// migrator.mjs'));
    app.write('umzug/.env', 'SPARSE_VECTOR_STORAGE=json\n');
    app.write('umzug/migrations/20240101000000_create_memories.js', files.umzugMigration);
    const migrator = (...args: string[]) => app.run(process.execPath, ['migrator.mjs', ...args], 'umzug', env);

    const pending = await migrator('pending', '--json');
    expect(pending.code).toBe(0);
    expect(JSON.parse(pending.stdout).map((m: { name: string }) => m.name)).toEqual([
      '20240101000000_create_memories.js',
      OURS,
    ]);
    const up = await migrator('up');
    expect(up.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(app.dir, 'umzug', 'umzug-ledger.json'), 'utf8'))).toEqual([
      '20240101000000_create_memories.js',
      OURS,
    ]);
    expect(await columns(db, 'memories')).toEqual(['id', 'document', 'sparse_embedding']);

    const before = app.nodeModulesListing();
    const create = await migrator('create', '--name', 'add_tags.js');
    expect(create.code).toBe(0);
    expect(
      fs.readdirSync(path.join(app.dir, 'umzug', 'migrations')).filter((f) => f.endsWith('.add_tags.js')),
    ).toHaveLength(1);
    expect(app.nodeModulesListing()).toEqual(before);

    const down = await migrator('down', '--to', '0');
    expect(down.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(app.dir, 'umzug', 'umzug-ledger.json'), 'utf8'))).toEqual([]);
    expect(await columns(db, 'memories')).toEqual([]);
  });

  test('standalone: npx umzug up|seed, npx sparse-vector verify; sample data from sparse-vector-migration/testing', async () => {
    app.write('standalone/.env', 'SPARSE_VECTOR_STORAGE=json\nOCEANBASE_COLLECTION=notes\n');
    app.write(
      'standalone/sample.cjs',
      `const { createMemoriesTable, insertSampleMemories } = require('sparse-vector-migration/testing');
       const knex = require('knex')({ client: 'mysql2', connection: process.env.DATABASE_URL });
       (async () => { await createMemoriesTable(knex, 'notes'); await insertSampleMemories(knex, { table: 'notes', count: 30, emptyRate: 0 }); })()
         .finally(() => knex.destroy());`,
    );
    const sample = await app.run(process.execPath, ['sample.cjs'], 'standalone', env);
    expect(withoutNpmNotes(sample.stderr)).toBe('');
    const npx = (...args: string[]) => app.run('npx', ['--no-install', ...args], 'standalone', env);
    const up = await npx('umzug', 'up');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("Sparse vector upgrade completed successfully for table 'notes'");
    const seed = await npx('umzug', 'seed', '--delay', '0', '--progress', 'none');
    expect(seed.code).toBe(0);
    const verify = await npx('sparse-vector', 'verify', '--json');
    expect(verify.code).toBe(0);
    const report = JSON.parse(verify.stdout);
    expect({ upgraded: report.upgraded, total: report.rows.total, stillNull: report.rows.stillNull }).toEqual({
      upgraded: true,
      total: 30,
      stillNull: 0,
    });
  });

  test('migrateToLatest() with require and with import', async () => {
    await db.knex.raw('CREATE TABLE memories (id BIGINT PRIMARY KEY, document TEXT)');
    app.write('standalone/.env', 'SPARSE_VECTOR_STORAGE=json\n');
    const print = `(r) => console.log(JSON.stringify({ ok: r.ok, alreadyApplied: r.alreadyApplied, applied: r.applied }))`;
    app.write(
      'standalone/boot.cjs',
      `const { migrateToLatest } = require('sparse-vector-migration');\nmigrateToLatest().then(${print});\n`,
    );
    app.write(
      'standalone/boot.mjs',
      `import { migrateToLatest } from 'sparse-vector-migration';\nawait migrateToLatest().then(${print});\n`,
    );
    for (const file of ['boot.cjs', 'boot.mjs']) {
      const r = await app.run(process.execPath, [file], 'standalone', env);
      expect({ file, stderr: withoutNpmNotes(r.stderr), code: r.code }).toEqual({ file, stderr: '', code: 0 });
      const first = file === 'boot.cjs';
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({
        ok: true,
        alreadyApplied: first ? [] : [OURS],
        applied: first ? [OURS] : [],
      });
    }
    expect(await columns(db, 'memories')).toEqual(['id', 'document', 'sparse_embedding']);
  });

  test('generators of the standalone route refuse instead of writing into node_modules', async () => {
    app.write(
      'standalone/knexfile.cjs',
      "const { createKnexfileConfig } = require('sparse-vector-migration');\nmodule.exports = createKnexfileConfig;\n",
    );
    const before = app.nodeModulesListing();
    const create = await app.run('npx', ['--no-install', 'umzug', 'create', '--name', 'x.js'], 'standalone', env);
    expect(create.code).not.toBe(0);
    expect(create.stderr).toContain('GENERATOR_REFUSED');
    expect(create.stderr).toContain('node_modules');
    for (const command of ['migrate:make', 'seed:make']) {
      const r = await app.run(
        'npx',
        ['--no-install', 'knex', '--knexfile', 'knexfile.cjs', command, 'x'],
        'standalone',
        env,
      );
      expect({ command, code: r.code }).toEqual({ command, code: 1 });
      expect(r.stdout + r.stderr).toContain('would be written inside node_modules');
    }
    expect(app.nodeModulesListing()).toEqual(before);
  });

  test('messages in the app point to what exists there (no npm run db:start)', async () => {
    const r = await app.run('npx', ['--no-install', 'umzug', 'pending'], '.', userEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No database is configured.');
    expect(r.stderr).toContain('SPARSE_VECTOR_DATABASE_URL');
    expect(r.stderr).not.toMatch(/npm run|scripts\/db\.sh/);
  });
}
