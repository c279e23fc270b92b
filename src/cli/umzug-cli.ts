import { CommandLineParser } from '@rushstack/ts-command-line';
import { DownAction, ListAction, UpAction } from 'umzug';
import { resolveConfig } from '../config/config';
import { loadDotenv } from '../config/load-env';
import { createSparseMigrator } from '../migrator/umzug';
import { createConsoleLogger } from '../util/logger';
import { redact } from '../util/redact';
import { EXIT, formatError, isUsageError } from './errors';
import { SeedAction } from './seed-action';
import { checkUmzugFlags } from './umzug-flags';
import { isSparseVectorError } from '../errors';
import { refuseGenerator } from '../migrator/generators';

/** Umzug's actions take an Umzug of any context (as its own getCli passes `this`). */
type UmzugInstance = ConstructorParameters<typeof UpAction>[0];

/**
 * Umzug's own actions (up, down, pending, executed: same flags --to, --step, --name, --json) and our seed
 * action. Umzug's `create` is left out: this package ships its migrations (`npx umzug create` is refused
 * with an explanation, see refuseGenerator), so the help lists only what runs.
 */
function umzugParser(umzug: UmzugInstance, seed: SeedAction): CommandLineParser {
  const cli = new (class extends CommandLineParser {})({
    toolFilename: 'umzug',
    toolDescription:
      'Schema migrations of sparse-vector-migration (adds sparse_embedding and sparse_embedding_idx). ' +
      'Configure the database with DATABASE_URL or OCEANBASE_* in .env.',
  });
  for (const action of [
    new UpAction(umzug),
    new DownAction(umzug),
    new ListAction('pending', umzug),
    new ListAction('executed', umzug),
    seed,
  ])
    cli.addAction(action);
  return cli;
}

/**
 * `npx umzug up|down|pending|executed|seed` for this package's migrations, using Umzug's own CLI
 * (same commands and flags: --to, --step, --name, --json), our ledger storage and our lock.
 * Configuration comes from .env / the environment (see .env.example).
 */
export async function runUmzugCli(argv: string[] = process.argv.slice(2)): Promise<number> {
  let migrator: ReturnType<typeof createSparseMigrator> | undefined;
  try {
    if (argv.find((a) => !a.startsWith('-')) === 'create') throw refuseGenerator('npx umzug create');
    const args = checkUmzugFlags(argv);
    loadDotenv();
    const config = resolveConfig();
    for (const notice of config.notices) process.stderr.write(`Note: ${notice}\n`);
    // With --json the standard output is for JSON only; progress lines go to stderr.
    const json =
      argv.includes('--json') ||
      argv.includes('--progress=json') ||
      argv.some((a, i) => a === '--progress' && argv[i + 1] === 'json');
    const logger = createConsoleLogger({ out: json ? process.stderr : process.stdout });
    migrator = createSparseMigrator({ config, logger });
    const seed = new SeedAction(config, logger);
    const cli = umzugParser(migrator.umzug as unknown as UmzugInstance, seed);
    await cli.executeWithoutErrorHandling(args);
    return seed.exitCode;
  } catch (err) {
    if (isUsageError(err)) {
      if (err.message) process.stderr.write(redact(err.message.trim()) + '\n');
      if (err.exitCode) process.stderr.write('  Run `npx umzug <command> --help` for the accepted options.\n');
      return err.exitCode || EXIT.usage;
    }
    if (isSparseVectorError(err) && err.code === 'USAGE') {
      process.stderr.write(formatError(err) + '\n');
      return EXIT.usage;
    }
    process.stderr.write(formatError(err) + '\n');
    return EXIT.failed;
  } finally {
    await migrator?.close();
  }
}
