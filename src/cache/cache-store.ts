/**
 * The cache store seam: where the controller looks up and stores task outputs by cache key.
 * The SQLite store (`sqlite-cache-store.ts`) is the default; this process-local memory store serves
 * tests and `flyte-ts/testing`.
 * @module
 */

/** A stored output. */
export interface CacheHit {
  readonly value: unknown;
}

/**
 * The outcome of asking to lead a serialized call: either the value is already there (`hit`),
 * or this caller holds the lease and must `release()` it once its result is stored (or it failed).
 */
export type CacheLead =
  | { readonly hit: CacheHit; readonly release?: undefined }
  | { readonly hit?: undefined; readonly release: () => void };

/** Stores task outputs by cache key. Implementations must never return a wrong value. */
export interface CacheStore {
  /** The output stored under `key`, or `undefined` on a miss. */
  get(key: string): Promise<CacheHit | undefined>;
  /** Stores `value` under `key` (replacing what was there); resolves once it is durable. */
  set(key: string, value: unknown, taskName: string): Promise<void>;
  /**
   * For `Cache({ serialize: true })` across processes: waits until either `key` has a value or
   * this caller holds its lease. Stores without it serialize within the run only.
   */
  lead?(key: string, signal: AbortSignal): Promise<CacheLead>;
  /** Releases the store's handles. */
  close(): Promise<void>;
}

/**
 * Outputs kept in this process's memory (copies in, copies out): for tests.
 *
 * @example
 * ```ts
 * import { MemoryCacheStore } from "flyte-ts/testing";
 * const cache = new MemoryCacheStore();
 * ```
 */
export class MemoryCacheStore implements CacheStore {
  readonly #entries = new Map<string, unknown>();

  get(key: string): Promise<CacheHit | undefined> {
    if (!this.#entries.has(key)) return Promise.resolve(undefined);
    return Promise.resolve({ value: structuredClone(this.#entries.get(key)) });
  }

  set(key: string, value: unknown): Promise<void> {
    this.#entries.set(key, structuredClone(value));
    return Promise.resolve();
  }

  /** How many entries are stored. */
  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
