/**
 * The stores of each `.flyte` folder, opened at the first run that uses it and shared by every
 * later run of the process: the SQLite cache and the run store.
 * @module
 */
import { useDigestMemo } from "../cache/file-digest.js";
import { SqliteCacheStore } from "../cache/sqlite-cache-store.js";
import { RunStore } from "../record/run-store.js";

/** The stores of one `.flyte` folder. */
export interface HomeStores {
  readonly cache: SqliteCacheStore;
  readonly runs: RunStore;
}

const byHome = new Map<string, HomeStores>();

/**
 * The stores of `home` (an absolute path), opened on first use. File digests are remembered in
 * the cache database of the folder used last.
 */
export function storesOf(home: string): HomeStores {
  let stores = byHome.get(home);
  if (stores === undefined) {
    stores = { cache: new SqliteCacheStore(home), runs: new RunStore(home) };
    byHome.set(home, stores);
  }
  useDigestMemo(stores.cache.digestMemo());
  return stores;
}
