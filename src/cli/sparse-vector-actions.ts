import type { SparseVectorError } from '../errors';
import { BACKFILL, CONFIRM, MIGRATE_PARAMS } from '../options/table';
import {
  findScript,
  formatScriptInfo,
  formatScriptList,
  parseScriptParams,
  runScript,
} from '../script-manager/manager';
import { EXIT } from './errors';
import { confirmOnTerminal } from './prompt';
import { SparseVectorAction, usageError } from './sparse-vector-action';
import { queryActions } from './sparse-vector-query-actions';
import { TableParameters } from './table-parameters';

export { SparseVectorAction, usageError };

/** `list`, `info` and `run`: the script manager's commands. */
class ListAction extends SparseVectorAction {
  constructor() {
    super({ actionName: 'list', summary: 'list: the scripts, by category', documentation: 'Lists the scripts.' });
  }
  protected run(): Promise<number> {
    process.stdout.write(formatScriptList().join('\n') + '\n');
    return Promise.resolve(EXIT.ok);
  }
}

class InfoAction extends SparseVectorAction {
  constructor() {
    super(
      {
        actionName: 'info',
        summary: "info <script>: a script's description and parameters",
        documentation: "A script's category, description and parameters (type, range, default, required).",
      },
      'the script',
    );
  }
  protected run(): Promise<number> {
    if (!this.positional[0]) throw usageError('info needs a script name.');
    process.stdout.write(formatScriptInfo(this.positional[0]).join('\n') + '\n');
    return Promise.resolve(EXIT.ok);
  }
}

class RunAction extends SparseVectorAction {
  constructor() {
    super(
      {
        actionName: 'run',
        summary: `run <script> [--param value]: run a script, e.g. run migrate-sparse-vector ${BACKFILL.dryRun.flag}`,
        documentation:
          'Runs a script (see `list`) with its parameters, written --batch-size or --batch_size (see `info <script>`): ' +
          'upgrade-sparse-vector; migrate-sparse-vector (the backfill); downgrade-sparse-vector --yes (deletes the vectors).',
      },
      'the script',
    );
    new TableParameters(this, [...MIGRATE_PARAMS, CONFIRM.yes]);
  }

  /** A flag no script has: the script's own list of parameters (or, first, an unknown script). */
  override unknownFlag(typed: string, words: string[]): SparseVectorError {
    const name = words[0];
    if (!name) return usageError('run needs a script name.');
    try {
      parseScriptParams(findScript(name), { [typed]: '' }, { asFlags: true });
    } catch (err) {
      return err as SparseVectorError;
    }
    return super.unknownFlag(typed, words);
  }

  protected async run(): Promise<number> {
    const [name, extra] = this.positional;
    if (!name) throw usageError('run needs a script name.');
    const script = findScript(name);
    parseScriptParams(script, this.rawFlags, { asFlags: true });
    if (extra !== undefined) {
      // `--dry-run perhaps`: a boolean parameter left the word alone; say what the parameter accepts.
      const before = this.argv[this.argv.indexOf(extra) - 1] ?? '';
      if (before.startsWith('--') && !before.includes('='))
        parseScriptParams(script, { ...this.rawFlags, [before.slice(2)]: extra }, { asFlags: true });
      throw usageError(
        `Unexpected argument '${extra}': script parameters are options, e.g. ${BACKFILL.batchSize.flag} ${BACKFILL.batchSize.default}.`,
        'Run `npx sparse-vector info <script>` for its parameters.',
      );
    }
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const out = process.stdout;
      const options = { config: this.config(), out, confirm: confirmOnTerminal(), signal: controller.signal };
      const result = await runScript(name, this.rawFlags, options);
      // runScript printed the guide's "✗ Script ... execution failed"; the error is printed once, by the CLI.
      if (!result.ok) throw result.error;
      return EXIT.ok;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

/** The commands, in the order the help lists them. */
export function sparseVectorActions(): SparseVectorAction[] {
  return [new ListAction(), new InfoAction(), new RunAction(), ...queryActions()];
}
