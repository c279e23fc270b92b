import type { CommandLineFlagParameter, CommandLineStringParameter } from '@rushstack/ts-command-line';
import { doctor, formatDoctorReport } from '../doctor/doctor';
import { SEARCH } from '../options/table';
import { sparseSearch } from '../search/sparse-search';
import { createConsoleLogger } from '../util/logger';
import { formatVerifyReport, verifySparseVector } from '../verify/verify';
import { EXIT } from './errors';
import { SparseVectorAction, usageError } from './sparse-vector-action';
import { TableParameters } from './table-parameters';

/** `verify`, `doctor` and `search`: the commands that read the configured table and report. */
class VerifyAction extends SparseVectorAction {
  private readonly query: CommandLineStringParameter;
  private readonly flags: TableParameters;
  private readonly json: CommandLineFlagParameter;
  constructor() {
    super({
      actionName: 'verify',
      summary: 'verify [--query Q] [--limit N] [--json]: ledger, schema, row counts and a sample search',
      documentation:
        'Ledger, column and index, row counts and the top rows of a sample search; exit 1 if not upgraded.',
    });
    this.query = this.defineStringParameter({
      parameterLongName: '--query',
      argumentName: 'Q',
      description: 'The sample search query.',
    });
    this.flags = new TableParameters(this, [SEARCH.limit]);
    this.json = this.defineFlagParameter({ parameterLongName: '--json', description: 'The report as JSON.' });
  }
  protected async run(): Promise<number> {
    const json = this.json.value;
    const out = process.stdout;
    const report = await verifySparseVector({
      config: this.config(),
      query: this.stringFlag(this.query),
      limit: (this.flags.values(this.spelling).limit as number | undefined) ?? SEARCH.limit.default,
      logger: createConsoleLogger({ out: json ? process.stderr : out }),
    });
    out.write(json ? JSON.stringify(report, null, 2) + '\n' : formatVerifyReport(report).join('\n') + '\n');
    return report.upgraded ? EXIT.ok : EXIT.failed;
  }
}

class DoctorAction extends SparseVectorAction {
  private readonly json: CommandLineFlagParameter;
  constructor() {
    super({
      actionName: 'doctor',
      summary: 'doctor [--json]: prove every statement the configured storage uses on this server',
      documentation:
        'Runs every statement the configured storage uses in a scratch table it creates and drops; one line per ' +
        'check; exit 1 on a failure.',
    });
    this.json = this.defineFlagParameter({ parameterLongName: '--json', description: 'The report as JSON.' });
  }
  protected async run(): Promise<number> {
    if (this.positional.length)
      throw usageError(`Unexpected argument '${this.positional[0]}': doctor takes no arguments.`);
    const report = await doctor({ config: this.config(), logger: createConsoleLogger({ out: process.stderr }) });
    process.stdout.write(
      this.json.value ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report).join('\n') + '\n',
    );
    return report.ok ? EXIT.ok : EXIT.failed;
  }
}

class SearchAction extends SparseVectorAction {
  private readonly flags: TableParameters;
  private readonly json: CommandLineFlagParameter;
  private readonly filters: Record<'user_id' | 'agent_id' | 'run_id', CommandLineStringParameter>;
  constructor() {
    super(
      {
        actionName: 'search',
        summary: 'search <query> [--limit N] [--user-id U] [--agent-id A] [--run-id R] [--json]: sparse search',
        documentation:
          "Top-k rows with a vector (of the given user/agent/run), with the raw score (inner product) and powermem's " +
          'similarity (score/(1+score)).',
      },
      'the query',
    );
    this.flags = new TableParameters(this, [SEARCH.limit]);
    this.json = this.defineFlagParameter({ parameterLongName: '--json', description: 'The rows as JSON.' });
    const filter = (name: string, argumentName: string) =>
      this.defineStringParameter({
        parameterLongName: `--${name}`,
        argumentName,
        description: `Only rows of this ${name.slice(0, -3)}.`,
      });
    this.filters = {
      user_id: filter('user-id', 'U'),
      agent_id: filter('agent-id', 'A'),
      run_id: filter('run-id', 'R'),
    };
  }
  protected async run(): Promise<number> {
    const query = this.positional.join(' ');
    if (!query) throw usageError('search needs a query.');
    const limit = (this.flags.values(this.spelling).limit as number | undefined) ?? SEARCH.limit.default;
    const filters: Record<string, string> = {};
    for (const [key, p] of Object.entries(this.filters)) {
      const v = this.stringFlag(p);
      if (v !== undefined) filters[key] = v;
    }
    const json = this.json.value;
    const out = process.stdout;
    const logger = createConsoleLogger({ out: json ? process.stderr : out });
    const hits = await sparseSearch({ config: this.config(), query, limit, filters, logger });
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
}

/** The reporting commands, in the order the help lists them. */
export function queryActions(): SparseVectorAction[] {
  return [new VerifyAction(), new DoctorAction(), new SearchAction()];
}
