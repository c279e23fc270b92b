import type { Knex } from 'knex';
import { failpoint } from '../util/failpoint';
import type { Checkpoint } from './checkpoint';
import type { SeedLedger } from './seed-ledger';

/** Save at least this often while the checkpoint moves... */
const SAVE_EVERY_MS = 1000;
/** ... or when it has moved over this share of the rows to do. */
const SAVE_EVERY_SHARE = 1 / 20;

/**
 * Writes a run's checkpoints to the seeds ledger: one small UPDATE at a time, at most about once a second
 * (or every 5% of the rows), always the newest; a failed save is ignored (the checkpoint is a hint: the
 * next run's final sweep makes its result exact whatever the ledger holds).
 */
export class CheckpointSaver {
  private latest?: Checkpoint;
  private saved?: Checkpoint;
  private savedAt = 0;
  private inFlight?: Promise<void>;
  private step?: number;

  constructor(
    private readonly knex: Knex,
    private readonly ledger: SeedLedger,
    private readonly name: string,
    private readonly where: { table: string; column: string },
  ) {}

  /** The engine's onCheckpoint. */
  readonly offer = (c: Checkpoint): void => {
    this.latest = c;
    this.step ??= Math.max(1, Math.ceil(c.remaining * SAVE_EVERY_SHARE));
    this.maybeSave();
  };

  /**
   * Every save settled (before the run's end is recorded and the checkpoint cleared): the end of a save may
   * start the next one (the newest checkpoint not saved yet), so wait until none is in flight.
   */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private maybeSave(): void {
    const c = this.latest;
    if (!c || this.inFlight || c === this.saved) return;
    const moved = this.saved ? this.saved.remaining - c.remaining : Infinity;
    if (moved < this.step! && Date.now() - this.savedAt < SAVE_EVERY_MS) return;
    this.saved = c;
    this.savedAt = Date.now();
    this.inFlight = this.ledger
      .saveCheckpoint(this.knex, this.name, { ...this.where, ...c })
      .then(() => failpoint('seeder:checkpoint-saved'))
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = undefined;
        this.maybeSave();
      });
  }
}
