/**
 * Watching Slurm jobs: one `squeue` call per tick for every job a run watches, with backoff
 * (quick while states change, slower while nothing does). Listeners hear each job's state on
 * every tick, and `undefined` once Slurm no longer knows the job.
 * @module
 */
import type { Clock } from "../internal/time.js";
import { type SlurmCommands, type SlurmJobState, squeue } from "./slurm-submit.js";

/** Hears a watched job's state on every tick; `error` when Slurm could not be asked for too long. */
export type SlurmListener = (state: SlurmJobState | undefined, error?: Error) => void;

/** Backoff of {@link SlurmWatcher}, in milliseconds. */
export interface WatchTiming {
  /** The first delay, and the delay after any change. @default 250 */
  readonly minMs: number;
  /** The longest delay between two ticks. @default 3000 */
  readonly maxMs: number;
  /** Each quiet tick multiplies the delay by this. @default 1.5 */
  readonly factor: number;
  /** Consecutive failed `squeue` calls after which listeners get the error. @default 10 */
  readonly failures: number;
}

const defaultTiming: WatchTiming = { minMs: 250, maxMs: 3000, factor: 1.5, failures: 10 };

/** Polls the states of watched jobs. */
export class SlurmWatcher {
  readonly #commands: SlurmCommands;
  readonly #clock: Clock;
  readonly #timing: WatchTiming;
  readonly #listeners = new Map<string, Set<SlurmListener>>();
  readonly #last = new Map<string, string>();
  #delayMs: number;
  #cancelTimer: (() => void) | undefined;
  #polling = false;
  #failures = 0;

  constructor(commands: SlurmCommands, clock: Clock, timing: Partial<WatchTiming> = {}) {
    this.#commands = commands;
    this.#clock = clock;
    this.#timing = { ...defaultTiming, ...timing };
    this.#delayMs = this.#timing.minMs;
  }

  /** Starts hearing job `id`'s states; returns the function that stops it. */
  watch(id: string, listener: SlurmListener): () => void {
    let set = this.#listeners.get(id);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(id, set);
    }
    set.add(listener);
    // A new job is looked at soon, not after the backoff a quiet queue has grown.
    this.#delayMs = this.#timing.minMs;
    this.stop();
    this.#schedule();
    return () => {
      set.delete(listener);
      if (set.size === 0) {
        this.#listeners.delete(id);
        this.#last.delete(id);
      }
      if (this.#listeners.size === 0) this.stop();
    };
  }

  /** Stops polling (it starts again with the next {@link watch}). */
  stop(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  #schedule(): void {
    if (this.#cancelTimer !== undefined || this.#polling || this.#listeners.size === 0) return;
    this.#cancelTimer = this.#clock.setTimer(this.#delayMs, () => {
      this.#cancelTimer = undefined;
      void this.#tick();
    });
  }

  async #tick(): Promise<void> {
    this.#polling = true;
    const ids = [...this.#listeners.keys()];
    let states: Map<string, SlurmJobState> | undefined;
    let failure: Error | undefined;
    try {
      states = await squeue(this.#commands, ids);
      this.#failures = 0;
    } catch (error) {
      failure = error as Error;
      this.#failures++;
    }
    this.#polling = false;
    let changed = false;
    for (const id of ids) {
      const listeners = this.#listeners.get(id);
      if (listeners === undefined) continue;
      if (states === undefined) {
        if (this.#failures < this.#timing.failures) continue;
        for (const listener of [...listeners]) listener(undefined, failure);
        continue;
      }
      const state = states.get(id);
      const key = state === undefined ? "gone" : `${state.state}|${state.reason}|${state.node}`;
      if (this.#last.get(id) !== key) changed = true;
      this.#last.set(id, key);
      for (const listener of [...listeners]) listener(state);
    }
    this.#delayMs = changed
      ? this.#timing.minMs
      : Math.min(this.#timing.maxMs, this.#delayMs * this.#timing.factor);
    this.#schedule();
  }
}
