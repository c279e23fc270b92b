import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BLOCKS, staleDocs, withBlocks } from '../../scripts/docs-options';
import { ROOT } from '../support/cli';

/**
 * The option tables of README.md, docs/backfill.md and .env.example are written from src/options/table.ts
 * by `npm run docs:options` (scripts/docs-options.ts). A changed default, range or help text without the
 * docs rewritten fails here.
 */
describe('the docs hold what npm run docs:options writes from the option table', () => {
  test.each(Object.keys(BLOCKS))('%s is up to date', (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    expect(withBlocks(file, text)).toBe(text);
  });

  test('a default changed in the table without the docs rewritten is found (a copy of the docs, edited)', () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-options-'));
    try {
      for (const file of Object.keys(BLOCKS)) {
        fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, file), path.join(copy, file));
      }
      expect(staleDocs(copy)).toEqual([]);
      // As if the table's batch size default had become 200: the docs still say 100.
      const readme = fs.readFileSync(path.join(copy, 'README.md'), 'utf8');
      const edited = readme.replace('| `SPARSE_BACKFILL_BATCH_SIZE` | 100 |', '| `SPARSE_BACKFILL_BATCH_SIZE` | 200 |');
      expect(edited).not.toBe(readme);
      fs.writeFileSync(path.join(copy, 'README.md'), edited);
      const env = fs.readFileSync(path.join(copy, '.env.example'), 'utf8');
      fs.writeFileSync(path.join(copy, '.env.example'), env.replace('# SPARSE_EMBEDDER_TIMEOUT_MS=30000\n', ''));
      expect(staleDocs(copy).map((s) => s.file)).toEqual(['README.md', '.env.example']);
      // The generator puts the table's text back.
      expect(staleDocs(copy)[0].expected).toBe(readme);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  test('a file without its markers is an error, not a silent skip', () => {
    expect(() => withBlocks('README.md', '# no markers here\n')).toThrow(
      'README.md: no "<!-- BEGIN options:backfill-flags ... <!-- END options:backfill-flags" markers.',
    );
  });
});
