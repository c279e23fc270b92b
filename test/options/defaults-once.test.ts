import { BACKFILL, SETTINGS, WORKERS, type OptionSpec } from '../../src/options/table';
import { sources as sourcesWithout, statedIn } from '../support/stated-defaults';

/** Every file of src/ except the table. */
const sources = () => sourcesWithout(['src/options/table.ts']);

describe('the option table is the only place a default appears', () => {
  const cases: Array<[OptionSpec, number]> = [
    [BACKFILL.batchSize, BACKFILL.batchSize.default],
    [BACKFILL.workers, WORKERS.local],
    [BACKFILL.workers, WORKERS.http],
    [BACKFILL.delaySeconds, BACKFILL.delaySeconds.default],
    [BACKFILL.dryRunLimit, BACKFILL.dryRunLimit.default],
    [BACKFILL.progressIntervalSeconds, BACKFILL.progressIntervalSeconds.default],
    [BACKFILL.embedAttempts, BACKFILL.embedAttempts.default],
    [SETTINGS.lockTimeoutSeconds, SETTINGS.lockTimeoutSeconds.default],
  ];
  test.each(cases.map(([spec, value]) => [spec.name, spec, value] as const))(
    '%s: its default %d is stated only in src/options/table.ts',
    (_name, spec, value) => {
      expect(statedIn(spec, sources(), value)).toEqual([]);
    },
  );

  test('the check finds a default stated outside the table (the definitions this table replaced)', () => {
    const before = {
      'scripts.ts': `parameters: [
    {
      name: 'batch_size',
      type: 'int',
      default: 100,
      required: false,`,
      'config.ts': `lockTimeoutSeconds: parseInteger(env.SPARSE_LOCK_TIMEOUT, 'SPARSE_LOCK_TIMEOUT', 120, { min: 0, max: 86400 }),`,
      'seeder.ts': `const create = () => createKnex(connection, { pool: (options.workers ?? 1) + 3 });`,
      'options.ts': `export const DEFAULTS = {\n  batchSize: 100,\n  workers: 1,\n  delaySeconds: 0.1,`,
      'format.ts': `if (p.workers.length > 1) {`,
    };
    expect(statedIn(BACKFILL.batchSize, before).map((h) => h.split(':').slice(0, 2).join(':'))).toEqual([
      'scripts.ts:3',
      'options.ts:2',
    ]);
    expect(statedIn(SETTINGS.lockTimeoutSeconds, before)).toHaveLength(1);
    expect(statedIn(BACKFILL.workers, before, WORKERS.local).map((h) => h.split(':')[0])).toEqual([
      'seeder.ts',
      'options.ts',
    ]);
    expect(statedIn(BACKFILL.delaySeconds, before)).toHaveLength(1);
  });
});
