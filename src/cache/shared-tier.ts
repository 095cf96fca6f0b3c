/**
 * The shared cache tier: any keyv instance (Redis, Postgres, memory, …) behind the local store.
 * Read on a local miss (and copied into the local store), written through after a local write.
 * Values travel as bytes with their SHA-256 in front, checked on read. A failing or slow shared
 * tier is logged once and ignored: the run goes on with the local cache.
 * @module
 */
import { warnOnce } from "../internal/warn.js";
import type { CacheHit, CacheLead, CacheStore } from "./cache-store.js";
import { decodeValue, encodeValue, sha256 } from "./value-codec.js";

/**
 * What flyte-ts needs of a shared store: keyv's `get` and `set`. A `Keyv` instance fits.
 *
 * @example
 * ```ts
 * import { Keyv } from "keyv";
 * import KeyvRedis from "@keyv/redis";
 * const sharedCache = new Keyv({ store: new KeyvRedis("redis://cache.internal:6379"), namespace: "flyte" });
 * await flyte.withRunContext({ sharedCache }).run(main);
 * ```
 */
export interface SharedCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
}

const PREFIX = "flyte-ts/v1/";
const HASH_BYTES = 32;

/** The local store plus a shared keyv tier. */
export class TieredCacheStore implements CacheStore {
  readonly #local: CacheStore;
  readonly #shared: SharedCache;
  readonly #timeoutMs: number;

  /**
   * @param local - the local store, asked first.
   * @param shared - the keyv instance.
   * @param timeoutMs - how long one shared read or write may take before it counts as failed. Milliseconds. @default 5_000
   */
  constructor(local: CacheStore, shared: SharedCache, timeoutMs = 5_000) {
    this.#local = local;
    this.#shared = shared;
    this.#timeoutMs = timeoutMs;
  }

  /** The local value, else the shared one (checked, then copied into the local store). */
  async get(key: string): Promise<CacheHit | undefined> {
    const local = await this.#local.get(key);
    if (local !== undefined) return local;
    const stored = await this.#guard("read", () => this.#shared.get(PREFIX + key));
    const bytes = toBytes(stored);
    if (bytes === undefined) {
      if (stored !== undefined && stored !== null) {
        warnOnce(`The shared cache returned a value flyte-ts did not write under ${key}; ignored.`);
      }
      return undefined;
    }
    const body = bytes.subarray(HASH_BYTES);
    if (sha256(body) !== Buffer.from(bytes.subarray(0, HASH_BYTES)).toString("hex")) {
      warnOnce(`A value in the shared cache (${key}) is damaged; the task runs again.`);
      return undefined;
    }
    let value: unknown;
    try {
      value = decodeValue(body);
    } catch {
      warnOnce(`A value in the shared cache (${key}) cannot be decoded; the task runs again.`);
      return undefined;
    }
    await this.#local.set(key, value, "(shared cache)");
    return { value };
  }

  /** Stores locally, then writes through to the shared tier (whose failure is only logged). */
  async set(key: string, value: unknown, taskName: string): Promise<void> {
    await this.#local.set(key, value, taskName);
    let bytes: Buffer;
    try {
      const encoded = encodeValue(value);
      bytes = Buffer.concat([Buffer.from(encoded.hash, "hex"), encoded.bytes]);
    } catch {
      return;
    }
    await this.#guard("write", () => this.#shared.set(PREFIX + key, bytes));
  }

  /** Serialization is coordinated by the local store (processes sharing one `.flyte` folder). */
  lead(key: string, signal: AbortSignal): Promise<CacheLead> {
    return this.#local.lead?.(key, signal) ?? Promise.resolve({ release: () => {} });
  }

  /** Closes the local store; the keyv instance belongs to the caller. */
  close(): Promise<void> {
    return this.#local.close();
  }

  async #guard(what: "read" | "write", op: () => Promise<unknown>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        op(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer in ${this.#timeoutMs} ms`)),
            this.#timeoutMs,
          );
          timer.unref();
        }),
      ]);
    } catch (error) {
      warnOnce(
        `The shared cache failed a ${what} (${error instanceof Error ? error.message : String(error)}); ` +
          "this run goes on with the local cache only. Check the keyv store's connection.",
      );
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

function toBytes(stored: unknown): Uint8Array | undefined {
  if (stored instanceof Uint8Array && stored.byteLength >= HASH_BYTES) return stored;
  return undefined;
}
