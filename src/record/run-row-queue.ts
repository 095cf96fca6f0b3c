/**
 * The rows the run store's observers queued for its next write (run-rows.ts): statements with
 * their parameters, and event rows. The store takes them as one batch.
 * @module
 */
import { EVENT_COLUMNS, type RowBatch } from "./run-store-writer.js";

/**
 * The rows queued for the next write, shared by the observers of one run store. `queued` hears
 * of every event that queued rows, with the number of rows now waiting.
 */
export class RowQueue {
  #rows: unknown[] = [];
  #events: unknown[] = [];
  /** Rows the observers will add when the batch is taken (rows they keep up to date until then). */
  #pending = 0;
  readonly #queued: (rows: number) => void;
  readonly #beforeTake = new Set<() => void>();

  constructor(queued: (rows: number) => void) {
    this.#queued = queued;
  }

  /** Queues `statement` with `params` (kept by reference: they may change until taken). */
  push(statement: number, params: unknown[]): void {
    this.#rows.push(statement, params);
  }

  /** Queues one event row of {@link EVENT_COLUMNS} values. */
  pushEvent(
    run: string,
    seq: number,
    type: string,
    action: string | null,
    at: number,
    data: string | null,
  ): void {
    this.#events.push(run, seq, type, action, at, data);
  }

  /** Counts `rows` an observer will add when the batch is taken (see {@link beforeTake}). */
  willAdd(rows: number): void {
    this.#pending += rows;
  }

  /** Tells the store that an event queued rows. */
  queued(): void {
    this.#queued(this.#rows.length / 2 + this.#events.length / EVENT_COLUMNS + this.#pending);
  }

  /**
   * Runs `fill` before every batch is taken, so an observer can queue the rows it keeps up to
   * date until then (an action's row, written once per batch rather than changed per event);
   * returns a function that stops it.
   */
  beforeTake(fill: () => void): () => void {
    this.#beforeTake.add(fill);
    return () => {
      this.#beforeTake.delete(fill);
    };
  }

  /** Takes what is queued as one batch (`undefined` when nothing is) and starts the next. */
  take(): RowBatch | undefined {
    for (const fill of this.#beforeTake) fill();
    this.#pending = 0;
    if (this.#rows.length === 0 && this.#events.length === 0) return undefined;
    const batch = { rows: this.#rows, events: this.#events };
    this.#rows = [];
    this.#events = [];
    return batch;
  }
}
