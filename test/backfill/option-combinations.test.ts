import { checkBackfillNumbers } from '../../src/backfill/options';
import { shardCondition } from '../../src/backfill/queries';
import { SparseVectorError } from '../../src/errors';
import { splitsTable } from '../../src/options/read';
import { targetOf } from '../../src/schema/sparse-schema';
import { resolveConfig } from '../../src/config/config';

/** Options that cannot go together, and what counts as a split table (no database). */
describe('backfill option combinations', () => {
  const refusal = (o: Parameters<typeof checkBackfillNumbers>[0]) => {
    try {
      checkBackfillNumbers(o);
    } catch (err) {
      return err as SparseVectorError;
    }
    return undefined;
  };

  test('a re-embed is refused with a shard of a split table or a dry run, with the fix', () => {
    const sharded = refusal({ reembed: true, shard: { index: 1, count: 2 } });
    expect(sharded?.code).toBe('CONFIG_INVALID');
    expect(sharded?.message).toBe(
      'reembed cannot be combined with a shard: a re-embed is one run over the whole table.',
    );
    expect(sharded?.hint).toBe('Run the re-embed without a shard.');
    const dry = refusal({ reembed: true, dryRun: true });
    expect(dry?.message).toBe('reembed cannot be combined with a dry run: a re-embed is one run over the whole table.');
    expect(dry?.hint).toBe('Try the new embedder with a dry run alone (it writes nothing), then re-embed.');
  });

  test('shard 0/1 is the whole table: a re-embed takes it, and no shard condition is added', () => {
    expect(refusal({ reembed: true, shard: { index: 0, count: 1 } })).toBeUndefined();
    expect(refusal({ shard: { index: 1, count: 2 } })).toBeUndefined();
    expect(splitsTable(undefined)).toBe(false);
    expect(splitsTable({ index: 0, count: 1 })).toBe(false);
    expect(splitsTable({ index: 0, count: 2 })).toBe(true);
    const t = targetOf(resolveConfig({ databaseUrl: 'mysql://u:p@h:3306/d', storage: 'json' }, {}));
    expect(shardCondition(t, { index: 0, count: 1 })).toEqual({ sql: '', bindings: [] });
    expect(shardCondition(t, { index: 1, count: 3 }, 'm')).toEqual({
      sql: ' AND MOD(CRC32(m.`id`), ?) = ?',
      bindings: [3, 1],
    });
  });
});
