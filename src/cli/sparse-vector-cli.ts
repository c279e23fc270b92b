/* eslint-disable max-lines-per-function -- TEMPORARY until replaced by one CLI parser (issue 13 item 3). */
import { resolveConfig } from '../config/config';
import { booleanWord } from '../config/parse';
import { loadDotenv } from '../config/load-env';
import { SparseVectorError, isSparseVectorError } from '../errors';
import { MAX_SEARCH_LIMIT } from '../dialect/common';
import {
  findScript,
  formatScriptInfo,
  formatScriptList,
  listScripts,
  parseScriptParams,
  runScript,
} from '../script-manager/manager';
import { sparseSearch } from '../search/sparse-search';
import { doctor, formatDoctorReport } from '../doctor/doctor';
import { createConsoleLogger } from '../util/logger';
import { formatVerifyReport, verifySparseVector } from '../verify/verify';
import { EXIT, formatError } from './errors';
import { integerFlag } from '../options/flag-value';
import { BACKFILL } from '../options/table';
import { EXIT_STOPPED } from './seed-action';
import { confirmOnTerminal } from './prompt';

export const USAGE = `Usage: npx sparse-vector <command>

Commands:
  list                         list the scripts, by category
  info <script>                a script's description and parameters
  run <script> [--param value] run a script, e.g.
                                 run upgrade-sparse-vector
                                 run migrate-sparse-vector --dry-run
                                 run migrate-sparse-vector --batch-size 200 --workers 3 --delay 0
                                 run downgrade-sparse-vector --yes
  verify [--query Q] [--limit N] [--json]
                               ledger, schema, row counts and a sample search; exit 1 if not upgraded
  doctor [--json]              prove every statement the configured storage uses on this server, in a
                               scratch table it creates and drops; one line per check; exit 1 on a failure
  search <query> [--limit N] [--user-id U] [--agent-id A] [--run-id R] [--json]
                               sparse search: top-k rows with the raw score (inner product)
                               and powermem's similarity (score/(1+score)); only rows with a
                               vector, of the given user/agent/run

Script parameters are written --batch-size or --batch_size; \`info <script>\` lists them.
Configuration comes from .env / the environment (DATABASE_URL or OCEANBASE_*, see .env.example).
LOG_LEVEL=debug (or SPARSE_DEBUG=1) shows the SQL and the sparse search query.
Exit codes: 0 ok, 1 failed (verify: schema not upgraded), 2 usage error.`;

/** Flags that never take a value unless it is a boolean word: --json, --help, and every bool script parameter. */
function booleanFlags(): Set<string> {
  const names = new Set(['json', 'help']);
  for (const s of listScripts()) {
    for (const p of s.parameters) if (p.type === 'bool') names.add(p.name).add(p.name.replace(/_/g, '-'));
  }
  return names;
}

/**
 * --key value, --key=value, --flag; everything else is positional. A boolean flag (see booleanFlags) takes
 * the next argument only when it is a boolean word, so `search --json teapot` keeps "teapot" as the query.
 */
export function parseArgs(
  args: string[],
  booleans: Set<string> = booleanFlags(),
): { positional: string[]; flags: Record<string, string | boolean> } {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-h') {
      flags.help = true;
      continue;
    }
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '--') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) {
      flags[a.slice(2, eq)] = a.slice(eq + 1);
      continue;
    }
    const name = a.slice(2);
    const next = args[i + 1];
    const takesValue =
      next !== undefined && !next.startsWith('--') && (!booleans.has(name) || booleanWord(next) !== undefined);
    flags[name] = takesValue ? args[++i] : true;
  }
  return { positional, flags };
}

function usageError(message: string): SparseVectorError {
  return new SparseVectorError('SCRIPT_PARAMETER', message, {
    hint: 'Run `npx sparse-vector --help` for the commands.',
  });
}

function onlyFlags(flags: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(flags))
    if (!allowed.includes(k))
      throw usageError(`Unknown option --${k}. Accepted: ${allowed.map((a) => `--${a}`).join(', ') || 'none'}.`);
}

function limitFlag(value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return integerFlag('--limit', typeof value === 'string' ? value : '', { min: 1, max: MAX_SEARCH_LIMIT }, fallback);
}

function stringFlag(flags: Record<string, string | boolean>, name: string): string | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw usageError(`--${name} needs a value.`);
  return v;
}

export async function runSparseVectorCli(argv: string[] = process.argv.slice(2)): Promise<number> {
  const out = process.stdout;
  const { positional, flags } = parseArgs(argv);
  const [command, ...rest] = positional;
  try {
    if (command === 'help' || flags.help) {
      out.write(USAGE + '\n');
      return EXIT.ok;
    }
    if (!command) {
      process.stderr.write(USAGE + '\n');
      return EXIT.usage;
    }
    if (command === 'list') {
      onlyFlags(flags, []);
      out.write(formatScriptList().join('\n') + '\n');
      return EXIT.ok;
    }
    if (command === 'info') {
      onlyFlags(flags, []);
      if (!rest[0]) throw usageError('info needs a script name.');
      out.write(formatScriptInfo(rest[0]).join('\n') + '\n');
      return EXIT.ok;
    }
    loadDotenv();
    if (command === 'run') {
      if (!rest[0]) throw usageError('run needs a script name.');
      const script = findScript(rest[0]);
      if (rest.length > 1) {
        // `--dry-run perhaps`: a bool parameter left the word alone; say what the parameter accepts.
        const before = argv[argv.indexOf(rest[1]) - 1] ?? '';
        const boolParam = script.parameters.find(
          (p) => p.type === 'bool' && before.replace(/^--/, '').replace(/-/g, '_') === p.name,
        );
        if (boolParam && before.startsWith('--')) {
          const { [before.slice(2)]: _flag, ...others } = flags;
          parseScriptParams(script, { ...others, [before.slice(2)]: rest[1] }, { asFlags: true });
        }
        throw usageError(
          `Unexpected argument '${rest[1]}': script parameters are options, e.g. ${BACKFILL.batchSize.flag} ${BACKFILL.batchSize.default}.`,
        );
      }
      parseScriptParams(script, flags, { asFlags: true });
      const config = resolveConfig();
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const run = await runScript(rest[0], flags, {
          config,
          out,
          confirm: confirmOnTerminal(),
          signal: controller.signal,
        });
        // runScript printed the guide's "✗ Script ... execution failed"; the error is printed once, below.
        if (!run.ok) throw run.error;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      return EXIT.ok;
    }
    if (command === 'verify') {
      onlyFlags(flags, ['query', 'limit', 'json']);
      const config = resolveConfig();
      const json = flags.json === true;
      const report = await verifySparseVector({
        config,
        query: stringFlag(flags, 'query'),
        limit: limitFlag(flags.limit, 10),
        logger: createConsoleLogger({ out: json ? process.stderr : out }),
      });
      out.write(json ? JSON.stringify(report, null, 2) + '\n' : formatVerifyReport(report).join('\n') + '\n');
      return report.upgraded ? EXIT.ok : EXIT.failed;
    }
    if (command === 'doctor') {
      onlyFlags(flags, ['json']);
      if (rest.length) throw usageError(`Unexpected argument '${rest[0]}': doctor takes no arguments.`);
      const report = await doctor({ config: resolveConfig(), logger: createConsoleLogger({ out: process.stderr }) });
      out.write(
        flags.json === true ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report).join('\n') + '\n',
      );
      return report.ok ? EXIT.ok : EXIT.failed;
    }
    if (command === 'search') {
      onlyFlags(flags, ['limit', 'json', 'user-id', 'agent-id', 'run-id']);
      const query = rest.join(' ');
      if (!query) throw usageError('search needs a query.');
      const limit = limitFlag(flags.limit, 10);
      const filters = {
        user_id: stringFlag(flags, 'user-id'),
        agent_id: stringFlag(flags, 'agent-id'),
        run_id: stringFlag(flags, 'run-id'),
      };
      const config = resolveConfig();
      const json = flags.json === true;
      const hits = await sparseSearch({
        config,
        query,
        limit,
        filters: Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
        logger: createConsoleLogger({ out: json ? process.stderr : out }),
      });
      if (json) out.write(JSON.stringify(hits, null, 2) + '\n');
      else {
        out.write(`✓ Search returned ${hits.length} results\n`);
        hits.forEach((h, i) =>
          out.write(
            `  ${i + 1}. [score ${h.score.toFixed(4)} | similarity ${h.similarity.toFixed(4)}] id ${h.id}: ${h.text.replace(/\s+/g, ' ').slice(0, 80)}\n`,
          ),
        );
      }
      return EXIT.ok;
    }
    throw usageError(`Unknown command '${command}'.`);
  } catch (err) {
    process.stderr.write(formatError(err) + '\n');
    if (isSparseVectorError(err) && err.code === 'INTERRUPTED') return EXIT_STOPPED;
    if (
      isSparseVectorError(err) &&
      (err.code === 'SCRIPT_UNKNOWN' || err.code === 'SCRIPT_PARAMETER' || err.code === 'USAGE')
    )
      return EXIT.usage;
    return EXIT.failed;
  }
}
