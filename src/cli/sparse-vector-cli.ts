import readline from 'node:readline';
import { resolveConfig } from '../config/config';
import { loadDotenv } from '../config/load-env';
import { SvmError, isSvmError } from '../errors';
import { findScript, formatScriptInfo, formatScriptList, runScript } from '../scripts/manager';
import { sparseSearch } from '../search/sparse-search';
import { createConsoleLogger } from '../util/logger';
import { formatVerifyReport, verifySparseVector } from '../verify/verify';
import { EXIT, formatError } from './errors';

export const USAGE = `Usage: npx sparse-vector <command>

Commands:
  list                         list the scripts, by category
  info <script>                a script's description and parameters
  run <script> [--param value] run a script, e.g.
                                 run upgrade-sparse-vector
                                 run migrate-sparse-vector --dry-run
                                 run migrate-sparse-vector --batch-size 100 --workers 3 --delay 0.1
                                 run downgrade-sparse-vector --yes
  verify [--query Q] [--limit N] [--json]
                               ledger, schema, row counts and a sample search; exit 1 if not upgraded
  search <query> [--limit N] [--json]
                               sparse search: top-k rows with scores

Configuration comes from .env / the environment (DATABASE_URL or OCEANBASE_*, see .env.example).
LOG_LEVEL=debug shows the SQL and the sparse search query.`;

/** --key value, --key=value, --flag; everything else is positional. */
export function parseArgs(args: string[]): { positional: string[]; flags: Record<string, string | boolean> } {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) flags[a.slice(2)] = args[++i];
    else flags[a.slice(2)] = true;
  }
  return { positional, flags };
}

function usageError(message: string): SvmError {
  return new SvmError('SCRIPT_PARAMETER', message, { hint: 'Run `npx sparse-vector --help` for the commands.' });
}

function onlyFlags(flags: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(flags)) if (!allowed.includes(k)) throw usageError(`Unknown option --${k}. Accepted: ${allowed.map((a) => `--${a}`).join(', ') || 'none'}.`);
}

function confirmOnTerminal(): ((q: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY) return undefined;
  return (question) =>
    new Promise((resolve) => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
      rl.question(question, (answer) => {
        rl.close();
        resolve(/^y(es)?$/i.test(answer.trim()));
      });
    });
}

export async function runSparseVectorCli(argv: string[] = process.argv.slice(2)): Promise<number> {
  const out = process.stdout;
  const { positional, flags } = parseArgs(argv);
  const [command, ...rest] = positional;
  try {
    if (!command || command === 'help' || flags.help) {
      out.write(USAGE + '\n');
      return command || flags.help ? EXIT.ok : EXIT.usage;
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
      findScript(rest[0]);
      const config = resolveConfig();
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await runScript(rest[0], flags, { config, out, confirm: confirmOnTerminal(), signal: controller.signal });
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
        query: typeof flags.query === 'string' ? flags.query : undefined,
        limit: flags.limit === undefined ? undefined : Number(flags.limit),
        logger: createConsoleLogger({ out: json ? process.stderr : out }),
      });
      out.write(json ? JSON.stringify(report, null, 2) + '\n' : formatVerifyReport(report).join('\n') + '\n');
      return report.upgraded ? EXIT.ok : EXIT.failed;
    }
    if (command === 'search') {
      onlyFlags(flags, ['limit', 'json']);
      const query = rest.join(' ');
      if (!query) throw usageError('search needs a query.');
      const config = resolveConfig();
      const json = flags.json === true;
      const hits = await sparseSearch({ config, query, limit: flags.limit === undefined ? 10 : Number(flags.limit), logger: createConsoleLogger({ out: json ? process.stderr : out }) });
      if (json) out.write(JSON.stringify(hits, null, 2) + '\n');
      else {
        out.write(`✓ Search returned ${hits.length} results\n`);
        hits.forEach((h, i) => out.write(`  ${i + 1}. [${h.score.toFixed(4)}] id ${h.id}: ${h.text.replace(/\s+/g, ' ').slice(0, 80)}\n`));
      }
      return EXIT.ok;
    }
    throw usageError(`Unknown command '${command}'.`);
  } catch (err) {
    process.stderr.write(formatError(err) + '\n');
    if (isSvmError(err) && (err.code === 'SCRIPT_UNKNOWN' || err.code === 'SCRIPT_PARAMETER')) return EXIT.usage;
    return EXIT.failed;
  }
}
