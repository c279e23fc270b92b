import {
  CommandLineParameterKind,
  type CommandLineAction,
  type CommandLineChoiceParameter,
  type CommandLineFlagParameter,
  type CommandLineStringParameter,
} from '@rushstack/ts-command-line';
import { optionHelp } from '../options/help';
import { readOptions, type OptionValue } from '../options/read';
import type { OptionSpec } from '../options/table';

type Parameter = CommandLineStringParameter | CommandLineFlagParameter | CommandLineChoiceParameter;

/**
 * The flags of an action, defined from the option table (name, argument, help with range, default and
 * variable); values are read back through the table's one validator (options/read.ts).
 */
export class TableParameters {
  private readonly byName = new Map<string, { spec: OptionSpec; parameter: Parameter }>();

  constructor(action: CommandLineAction, specs: readonly OptionSpec[]) {
    for (const spec of specs) {
      const common = { parameterLongName: spec.flag!, description: optionHelp(spec) };
      const parameter =
        spec.type === 'bool'
          ? action.defineFlagParameter(common)
          : spec.type === 'choice'
            ? action.defineChoiceParameter({ ...common, alternatives: [...spec.choices!] })
            : action.defineStringParameter({ ...common, argumentName: spec.argument ?? 'VALUE' });
      this.byName.set(spec.name, { spec, parameter });
    }
  }

  /** The given flags as typed values, by API name (a flag not given is left out); usage errors name the flag. */
  values(spelling: (flag: string) => string = (flag) => flag): Record<string, OptionValue> {
    const entries = [...this.byName.values()];
    return readOptions(
      entries.map((e) => e.spec),
      (spec) => given(this.byName.get(spec.name)!.parameter),
      (spec) => ({ kind: 'flag', name: spelling(spec.flag!) }),
    );
  }

  /** The names of the flags given (as defined: --batch-size). */
  givenFlags(): string[] {
    return [...this.byName.values()].filter((e) => given(e.parameter) !== undefined).map((e) => e.spec.flag!);
  }
}

function given(p: Parameter): string | boolean | undefined {
  if (p.kind === CommandLineParameterKind.Flag) return p.value ? true : undefined;
  return p.value;
}
