import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packProject } from './installed-app';
import { installedAppScenarios } from './scenarios';

describe('the published tarball', () => {
  let dir: string;
  let files: string[];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svm-pack-'));
    const tarball = await packProject(dir);
    files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('ships compiled JavaScript and declarations only: no .ts sources, no examples, bench, scripts or tests', () => {
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(
      files.filter((f) =>
        /^(src|test|examples|bench|scripts|migrations|seeders)\/|^dist\/(examples|bench|scripts|test)\/|\.map$|(^|\/)knexfile\./.test(
          f,
        ),
      ),
    ).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/migrations/20250601000000_add_sparse_vector.js',
        'dist/seeders/20250601000100_backfill_sparse_vector.js',
        'esm/index.mjs',
        'bin/umzug.js',
      ]),
    );
  });

  test('the root entry holds no test peers; they are behind sparse-vector-migration/testing', () => {
    const root = path.join(dir, 'package');
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(manifest.exports['.']).toEqual({
      types: './dist/src/index.d.ts',
      import: './esm/index.mjs',
      require: './dist/src/index.js',
    });
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['knex', 'mysql2']);
    expect(manifest.dependencies.knex).toBeUndefined();
    const index = fs.readFileSync(path.join(root, 'dist/src/index.js'), 'utf8');
    expect(index).not.toMatch(/testing|sample|fake-embedding|local-server/);
    const testing = fs.readFileSync(path.join(root, 'dist/testing/index.d.ts'), 'utf8');
    expect(testing).toMatch(/createMemoriesTable/);
    expect(testing).toMatch(/startFakeEmbeddingServer/);
  });
});

describe('a CommonJS application that installs the tarball', () => installedAppScenarios('commonjs'));
