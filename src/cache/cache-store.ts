/**
 * The cache store seam: where the controller looks up and stores task outputs by cache key.
 * This process-local memory store is the default until the SQLite store is configured.
 * @module
 */

/** A stored output. */
export interface CacheHit {
  readonly value: unknown;
}

/** Stores task outputs by cache key. Implementations must never return a wrong value. */
export interface CacheStore {
  /** The output stored under `key`, or `undefined` on a miss. */
  get(key: string): Promise<CacheHit | undefined>;
  /** Stores `value` under `key` (replacing what was there). */
  set(key: string, value: unknown, taskName: string): Promise<void>;
  /** Releases the store's handles. */
  close(): Promise<void>;
}

/** Outputs kept in this process's memory (copies in, copies out). */
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
