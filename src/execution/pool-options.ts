/**
 * The options of a worker pool (worker-pool.ts): how many workers it keeps, how many attempts
 * each runs, and how long an idle one lives.
 * @module
 */
import type { WorkerSpec } from "./worker-handle.js";

/** How a pool sizes and paces its workers. */
export interface PoolOptions {
  /** The environment's name, for messages. */
  readonly name: string;
  readonly spec: WorkerSpec;
  /** Workers started with the pool and kept while it lives. */
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** Attempts one worker runs at once (not counting those awaiting sub-calls). */
  readonly concurrency: number;
  /**
   * Bodies that are only awaiting (I/O, timers) one worker may hold beside its `concurrency`: a
   * body still unsettled after its first turn gives its slot to the next attempt, up to this many
   * per worker. 0 turns the sharing off.
   */
  readonly maxAwaitingPerWorker: number;
  /** How long a worker above `minWorkers` may sit idle, in ms; `undefined`: until closed. */
  readonly idleTtlMs: number | undefined;
}
