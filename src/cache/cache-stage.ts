/**
 * The cache stage of an action: a hit is answered before admission or a worker; `serialize: true`
 * runs identical calls once — within the run (single flight) and across processes sharing the
 * `.flyte` folder (a lease row) — and a computed output is written back.
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import { cacheKey } from "./cache-key.js";
import type { CacheStore } from "./cache-store.js";

/** How a run uses the cache. */
export interface CachePolicyOfRun {
  /** Look results up (off with `overwriteCache` or `disableRunCache`). */
  readonly read: boolean;
  /** Store results (off with `disableRunCache`). */
  readonly write: boolean;
  /** The run's cancellation: a waiter for another process's lease stops waiting. */
  readonly signal: AbortSignal;
  /** Told when action `id` is answered without running (a hit, or another caller's value). */
  readonly hit: (id: string) => void;
}

/** Answers actions from the cache, or computes and stores them. */
export class CacheStage {
  readonly #store: CacheStore;
  readonly #run: CachePolicyOfRun;
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(store: CacheStore, run: CachePolicyOfRun) {
    this.#store = store;
    this.#run = run;
  }

  /** The output of action `id`: from the cache, or from `compute()` (then stored). */
  run(
    id: string,
    template: TaskTemplate,
    args: readonly unknown[],
    inputsHash: string,
    compute: () => Promise<unknown>,
  ): Promise<unknown> {
    const run = this.#run;
    // Not through an async function: a task without a cache pays no promise of its own here.
    if (!template.cache.isEnabled() || !(run.read || run.write)) return compute();
    return this.#cached(id, template, cacheKey(template, args, inputsHash), compute);
  }

  async #cached(
    id: string,
    template: TaskTemplate,
    key: string,
    compute: () => Promise<unknown>,
  ): Promise<unknown> {
    const run = this.#run;
    if (run.read) {
      const hit = await this.#store.get(key);
      if (hit !== undefined) {
        run.hit(id);
        return hit.value;
      }
    }
    if (!template.cache.serialize) return this.#computed(key, template, compute);
    // A leader that fails does not fail its waiters: the next one runs (and leads the rest).
    for (let leader = this.#inFlight.get(key); leader !== undefined; ) {
      const settled = await leader.then(
        (value) => ({ value }),
        () => undefined,
      );
      if (settled !== undefined) {
        run.hit(id);
        return structuredClone(settled.value);
      }
      leader = this.#inFlight.get(key);
    }
    const running = this.#leading(key, id, template, compute);
    this.#inFlight.set(key, running);
    const done = () => this.#inFlight.delete(key);
    running.then(done, done);
    return running;
  }

  /** `serialize: true` across processes: one caller per key runs, the others get its value. */
  async #leading(
    key: string,
    id: string,
    template: TaskTemplate,
    compute: () => Promise<unknown>,
  ): Promise<unknown> {
    const lead = this.#run.read ? await this.#store.lead?.(key, this.#run.signal) : undefined;
    if (lead?.hit !== undefined) {
      this.#run.hit(id);
      return lead.hit.value;
    }
    try {
      return await this.#computed(key, template, compute);
    } finally {
      lead?.release();
    }
  }

  async #computed(
    key: string,
    template: TaskTemplate,
    compute: () => Promise<unknown>,
  ): Promise<unknown> {
    const output = await compute();
    if (this.#run.write && output !== undefined) await this.#store.set(key, output, template.name);
    return output;
  }
}
