import readline from 'node:readline';
import { SparseVectorError } from '../errors';

/**
 * A yes/no question on the terminal, or undefined when stdin is not one. Ctrl-C rejects with SparseVectorError
 * INTERRUPTED (the CLI exits 130); Ctrl-D / end of input counts as "no". Either way the question ends at
 * once and the terminal is given back.
 */
export function confirmOnTerminal(
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WritableStream = process.stdout,
): ((question: string) => Promise<boolean>) | undefined {
  if (!input.isTTY) return undefined;
  return (question) =>
    new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input, output, terminal: true });
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        rl.close();
        input.pause();
        fn();
      };
      rl.on('SIGINT', () => {
        output.write('^C\n');
        settle(() =>
          reject(new SparseVectorError('INTERRUPTED', 'Stopped at the confirmation (Ctrl-C): nothing was changed.')),
        );
      });
      rl.on('close', () => {
        if (!settled) output.write('\n');
        settle(() => resolve(false));
      });
      rl.question(question, (answer) => settle(() => resolve(/^y(es)?$/i.test(answer.trim()))));
    });
}
