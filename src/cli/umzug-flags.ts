import { listScriptFiles, MIGRATIONS_DIR } from '../migrator/migration-files';
import { SparseVectorError } from '../errors';
import { flagValueError, integerFlag } from '../options/flag-value';

const EXTENSION = /\.(ts|js|cjs|mjs|cts|mts)$/;

/** The value of `--name VALUE` / `--name=VALUE` in argv, with its index (the value's own index). */
function flagValue(argv: string[], name: string): { value: string; index: number; joined: boolean } | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name && i + 1 < argv.length) return { value: argv[i + 1], index: i + 1, joined: false };
    if (argv[i].startsWith(`${name}=`)) return { value: argv[i].slice(name.length + 1), index: i, joined: true };
  }
  return undefined;
}

/**
 * Umzug's own `up`/`down` flags, checked before Umzug sees them: `--step` must be a whole number of 1 or
 * more (Umzug takes -1 and does nothing); `--to` is a migration of this package, named with or without its
 * file extension (or 0 with down: revert all). Returns argv with `--to` normalised to the ledger name.
 */
export function checkUmzugFlags(
  argv: string[],
  migrationNames = listScriptFiles(MIGRATIONS_DIR).map((f) => f.name),
): string[] {
  const command = argv.find((a) => !a.startsWith('-'));
  if (command !== 'up' && command !== 'down') return argv;
  const step = flagValue(argv, '--step');
  if (step) integerFlag('--step', step.value, { min: 1, max: Number.MAX_SAFE_INTEGER }, 1);
  const to = flagValue(argv, '--to');
  if (!to || (command === 'down' && to.value === '0')) return argv;
  const name = to.value.trim().replace(EXTENSION, '');
  if (!migrationNames.includes(name)) {
    const err = flagValueError('--to', to.value, 'a migration of this package', migrationNames[0] ?? 'NAME');
    throw new SparseVectorError('USAGE', err.message, {
      hint: `Known migrations: ${migrationNames.join(', ') || 'none'} (with or without the file extension${command === 'down' ? '; 0 reverts all' : ''}).`,
    });
  }
  const out = [...argv];
  out[to.index] = to.joined ? `--to=${name}` : name;
  return out;
}
