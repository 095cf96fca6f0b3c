/**
 * Gathering the items of one `flyte.map` into one Slurm job array. Items arrive as separate
 * attempts; they are held until every item of the map has arrived (or, when some never will,
 * because the cache answered them, a short quiet moment has passed), then submitted together.
 * @module
 */
import type { MapItem } from "../context/context.js";
import type { Clock } from "../internal/time.js";

/** How long after the last arrival an incomplete map is submitted anyway. Milliseconds. */
export const arrayQuietMs = 250;

/** One item waiting for its array. */
interface ArrayEntry<T, R> {
  readonly item: MapItem;
  readonly value: T;
  resolve(submitted: R): void;
  reject(error: unknown): void;
}

/**
 * Submits the values of a gathered map (ordered by item index) together; resolves with what
 * each became (its job), in the same order.
 */
export type SubmitArray<T, R> = (values: readonly T[]) => Promise<readonly R[]>;

interface Pending<T, R> {
  readonly entries: ArrayEntry<T, R>[];
  cancelTimer: (() => void) | undefined;
}

/** Gathers map items per map and hands each set to `submit` once. */
export class ArrayGatherer<T, R> {
  readonly #clock: Clock;
  readonly #submit: SubmitArray<T, R>;
  readonly #pending = new Map<string, Pending<T, R>>();

  constructor(clock: Clock, submit: SubmitArray<T, R>) {
    this.#clock = clock;
    this.#submit = submit;
  }

  /**
   * Adds an item; resolves with what it became once its array is submitted. Aborting `signal`
   * while it waits takes it out (rejecting with the signal's reason); once its array is on its
   * way to `sbatch`, the caller gets its job and cancels it.
   */
  add(item: MapItem, value: T, signal: AbortSignal): Promise<R> {
    return new Promise((resolve, reject) => {
      let pending = this.#pending.get(item.map);
      if (pending === undefined) {
        pending = { entries: [], cancelTimer: undefined };
        this.#pending.set(item.map, pending);
      }
      const own = pending;
      const onAbort = () => {
        const at = own.entries.indexOf(entry);
        if (at === -1) return;
        own.entries.splice(at, 1);
        if (own.entries.length === 0) this.#drop(item.map, own);
        reject(signal.reason);
      };
      const entry: ArrayEntry<T, R> = {
        item,
        value,
        resolve: (submitted) => {
          signal.removeEventListener("abort", onAbort);
          resolve(submitted);
        },
        reject: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      own.entries.push(entry);
      own.cancelTimer?.();
      if (own.entries.length >= item.count) this.#flush(item.map, own);
      else own.cancelTimer = this.#clock.setTimer(arrayQuietMs, () => this.#flush(item.map, own));
    });
  }

  #drop(key: string, pending: Pending<T, R>): void {
    pending.cancelTimer?.();
    if (this.#pending.get(key) === pending) this.#pending.delete(key);
  }

  #flush(key: string, pending: Pending<T, R>): void {
    this.#drop(key, pending);
    const entries = pending.entries.splice(0).sort((a, b) => a.item.index - b.item.index);
    if (entries.length === 0) return;
    this.#submit(entries.map((entry) => entry.value)).then(
      (submitted) => {
        entries.forEach((entry, index) => {
          entry.resolve(submitted[index] as R);
        });
      },
      (error: unknown) => {
        for (const entry of entries) entry.reject(error);
      },
    );
  }
}
