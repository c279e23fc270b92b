import fs from 'node:fs';
import { SparseVectorError } from '../errors';
import { redact } from '../util/redact';
import type { BackfillEmitter } from './events';
import type { BackfillFailure } from './summary';

const MAX_LISTED_FAILURES = 1000;
/** Failed ids remembered for the final sweep (which leaves them to the next run); past this, retried there. */
const MAX_REMEMBERED_IDS = 100_000;

/**
 * The rows a run could not embed or write: the first 1,000 kept for the summary, every one appended to the
 * failures file (JSON lines {"id","reason"}) when one is given, and each reported as a 'row-failed' event.
 */
export class FailureLog {
  readonly listed: BackfillFailure[] = [];
  private readonly fd: number | undefined;
  private readonly ids = new Set<string>();

  /** Opens the file (not for a dry run, which writes nothing); a bad path is refused before the run. */
  constructor(
    private readonly events: BackfillEmitter,
    file: string | undefined,
    dryRun: boolean,
  ) {
    this.fd = file && !dryRun ? openFailuresFile(file) : undefined;
  }

  record(id: string, err: unknown): void {
    const failure = { id, reason: redact((err as Error)?.message ?? String(err)) };
    if (this.listed.length < MAX_LISTED_FAILURES) this.listed.push(failure);
    if (this.ids.size < MAX_REMEMBERED_IDS) this.ids.add(id);
    if (this.fd !== undefined) fs.writeSync(this.fd, JSON.stringify(failure) + '\n');
    this.events.emit('row-failed', failure);
  }

  /** Whether row `id` failed in this run (the first 100,000 failures are remembered). */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
  }
}

function openFailuresFile(file: string): number {
  try {
    return fs.openSync(file, 'a');
  } catch (err) {
    throw new SparseVectorError(
      'CONFIG_INVALID',
      `Cannot open the failures file ${JSON.stringify(file)}: ${(err as Error).message}`,
      { hint: 'Pass a path in a directory that exists and is writable.' },
    );
  }
}
