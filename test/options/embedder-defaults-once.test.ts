import { EMBEDDER, type OptionSpec } from '../../src/options/table';
import { sources, statedIn } from '../support/stated-defaults';

/** The option table: table.ts and its embedder part (a file of its own to keep both under 300 lines). */
const TABLE = ['src/options/table.ts', 'src/options/table-embedder.ts'];

describe("the embedder's defaults are stated only in the option table", () => {
  const cases: Array<[OptionSpec, number]> = [
    [EMBEDDER.timeoutMs, EMBEDDER.timeoutMs.default],
    [EMBEDDER.maxRetries, EMBEDDER.maxRetries.default],
    [EMBEDDER.backoffBaseMs, EMBEDDER.backoffBaseMs.default],
    [EMBEDDER.batchSize, EMBEDDER.batchSize.default],
    [EMBEDDER.dims, EMBEDDER.dims.default],
    [EMBEDDER.indexSpace, EMBEDDER.indexSpace.default],
  ];
  test.each(cases.map(([spec, value]) => [spec.name, value, spec] as const))(
    '%s: its default %d is stated only in the option table',
    (_name, value, spec) => {
      expect(statedIn(spec, sources(TABLE), value)).toEqual([]);
    },
  );

  test('the check finds the definitions the table replaced (embedders/http.ts, config.ts, tei.ts, qwen.ts)', () => {
    const before = {
      'http.ts': `export const HTTP_DEFAULTS = {\n  timeoutMs: 30_000,\n  maxRetries: 5,\n  backoffBaseMs: 500,\n  maxBackoffMs: 30_000,`,
      'config.ts': `  timeoutMs: { min: 1, max: 3_600_000, hint: 'Use a whole number of milliseconds, e.g. 30000 (the default).' },
  maxRetries: { min: 0, max: 100, hint: 'Use a whole number >= 0, e.g. 5 (the default); 0 disables retries.' },`,
      'tei.ts': `export const TEI_DEFAULTS = { batchSize: 32 } as const;`,
      'qwen.ts': `export const QWEN_DEFAULTS = { model: 'text-embedding-v4', dims: 1536, batchSize: 10 } as const;`,
      'local.ts': `    const space = config.indexSpace ?? 500_000;`,
    };
    const files = (hits: string[]) => hits.map((h) => h.split(':')[0]);
    expect(files(statedIn(EMBEDDER.timeoutMs, before))).toEqual(['http.ts', 'config.ts']);
    expect(files(statedIn(EMBEDDER.maxRetries, before))).toEqual(['http.ts', 'config.ts']);
    expect(files(statedIn(EMBEDDER.backoffBaseMs, before))).toEqual(['http.ts']);
    expect(files(statedIn(EMBEDDER.batchSize, before))).toEqual(['tei.ts']);
    expect(files(statedIn(EMBEDDER.dims, before))).toEqual(['qwen.ts']);
    expect(files(statedIn(EMBEDDER.indexSpace, before))).toEqual(['local.ts']);
  });
});
