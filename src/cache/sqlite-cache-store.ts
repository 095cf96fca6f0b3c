/**
 * The local cache: `<home>/cache.db` on better-sqlite3. A small output (at most 512 bytes
 * encoded) lives in its entry row; a larger one is stored once under the SHA-256 of its bytes
 * (`objects`) and its entries point at that hash, so identical outputs are stored once. Outputs
 * over 1 MB live in the blob store. Writes made in the same turn of the event loop share one
 * transaction (a fan-out's results cost one commit, not one each), and each `set` resolves only
 * once that transaction has committed. Every read is verified: the row's key against the key
 * asked for and the row's seal (a hash binding key, task and the output's bytes, or the object's
 * hash whose bytes are checked against it). Anything unreadable or damaged is a miss plus one
 * warning naming the file, never a wrong value. A write that fails (a full disk) loses only the
 * cache entry: it is noted for the run's one "not recorded" warning.
 * @module
 */
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { notRecorded } from "../internal/not-recorded.js";
import { knownSecrets } from "../internal/secret-mask.js";
import { warnOnce } from "../internal/warn.js";
import { BlobStore } from "./blob-store.js";
import { leadKey } from "./cache-lease.js";
import { cacheSchema, entrySeal, inlineEntrySeal } from "./cache-schema.js";
import type { CacheHit, CacheLead, CacheStore } from "./cache-store.js";
import { type Database, openDatabase } from "./database.js";
import type { DigestMemo } from "./file-digest.js";
import { decodeValue, encodeBytes, sha256 } from "./value-codec.js";

/** Options of {@link SqliteCacheStore}. */
export interface SqliteCacheStoreOptions {
  /** Outputs larger than this go to blob files. Bytes. @default 1_048_576 */
  inlineMaxBytes?: number;
  /**
   * Outputs at most this large (encoded) live in their entry row instead of being stored once
   * by content hash. Bytes. @default 512
   */
  entryMaxBytes?: number;
  /**
   * How long a `serialize` lease lives without a heartbeat. A leader that died on this host is
   * taken over at the next poll (its pid and start time are checked); one on another host only
   * when its lease expires, at most this long after it died. Milliseconds. @default 30_000
   */
  leaseMs?: number;
  /** How often a waiter checks for the leader's value or an expired lease. Milliseconds. @default 50 */
  pollMs?: number;
}

interface Pending {
  readonly key: string;
  readonly task: string;
  readonly bytes: Buffer;
  /** The content hash of an output stored in `objects`; `''` for one stored in its entry. */
  readonly hash: string;
  readonly seal: string;
  /** The output with known secret values masked, when it held one (for `cache show`). */
  readonly masked: Buffer | undefined;
}

/** The writes waiting for the next commit, and the promise they all resolve with. */
interface Batch {
  readonly items: Pending[];
  readonly committed: Promise<void>;
  readonly done: () => void;
}

interface Row {
  readonly key: string;
  readonly task: string;
  readonly hash: string;
  readonly seal: string | null;
  /** The output's bytes when they live in the entry row. */
  readonly inline: Buffer | null;
  /** `null` when no object has the entry's hash. */
  readonly objectHash: string | null;
  readonly data: Buffer | null;
}

/**
 * Task outputs in `<home>/cache.db` (and `<home>/blobs/`), shared by every process using that folder.
 *
 * @example
 * ```ts
 * const store = new SqliteCacheStore(".flyte");
 * await store.set(key, { loss: 0.1 }, "train.fit");
 * (await store.get(key))?.value; // { loss: 0.1 }
 * ```
 */
export class SqliteCacheStore implements CacheStore {
  readonly #home: string;
  readonly #blobs: BlobStore;
  readonly #inlineMaxBytes: number;
  readonly #entryMaxBytes: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  #db: Database | undefined | null = null;
  #select: Statement<[string], Row> | undefined;
  #writer: BetterSqlite3.Transaction<(batch: readonly Pending[], now: number) => void> | undefined;
  #batch: Batch | undefined;
  /** Objects found damaged: the next write of the same hash replaces the row instead of keeping it. */
  readonly #damaged = new Set<string>();

  /** @param home - the `.flyte` folder. */
  constructor(home: string, options: SqliteCacheStoreOptions = {}) {
    this.#home = home;
    this.#blobs = new BlobStore(join(home, "blobs"));
    this.#inlineMaxBytes = options.inlineMaxBytes ?? 1_048_576;
    // An output over the blob limit goes to a blob file even when it would fit in its entry.
    this.#entryMaxBytes = Math.min(options.entryMaxBytes ?? 512, this.#inlineMaxBytes);
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 50;
  }

  /** The open database, or `undefined` when it cannot be used (warned once). */
  get database(): Database | undefined {
    if (this.#db === null) {
      this.#db = openDatabase(join(this.#home, "cache.db"), cacheSchema, "The cache database");
      this.#select = this.#db?.prepare<[string], Row>(
        "SELECT e.key AS key, e.task AS task, e.hash AS hash, e.seal AS seal, e.data AS inline, " +
          "o.hash AS objectHash, o.data AS data FROM entries e LEFT JOIN objects o ON o.hash = e.hash WHERE e.key = ?",
      );
    }
    return this.#db;
  }

  /** The blob files of this store. */
  get blobs(): BlobStore {
    return this.#blobs;
  }

  /** The output stored under `key`; a miss (plus one warning) for anything unreadable. */
  get(key: string): Promise<CacheHit | undefined> {
    return Promise.resolve(this.getNow(key));
  }

  /** File digests remembered in this database, so other processes need not re-read a file. */
  digestMemo(): DigestMemo | undefined {
    const db = this.database;
    if (db === undefined) return undefined;
    const select = db.prepare<
      [string, number, string],
      { path: string; size: number; mtime: string; digest: Buffer }
    >(
      "SELECT path, size, mtime, digest FROM file_digests WHERE path = ? AND size = ? AND mtime = ?",
    );
    const upsert = db.prepare(
      "INSERT OR REPLACE INTO file_digests (path, size, mtime, digest) VALUES (?, ?, ?, ?)",
    );
    return {
      get: (path, size, mtimeNs) => {
        try {
          const row = select.get(path, size, mtimeNs);
          // A damaged row is not trusted: the file is hashed again.
          if (row === undefined || row.path !== path || row.size !== size || row.mtime !== mtimeNs)
            return undefined;
          return Buffer.isBuffer(row.digest) && row.digest.byteLength === 32
            ? row.digest
            : undefined;
        } catch {
          return undefined;
        }
      },
      set: (path, size, mtimeNs, digest) => {
        try {
          upsert.run(path, size, mtimeNs, digest);
        } catch {
          // Only a memo: the next process hashes the file again.
        }
      },
    };
  }

  /** {@link get}, without the promise. */
  getNow(key: string): CacheHit | undefined {
    if (this.database === undefined) return undefined;
    let row: Row | undefined;
    try {
      row = this.#select?.get(key);
    } catch (error) {
      warnOnce(`The cache database could not be read (${String(error)}); the task runs instead.`);
      return undefined;
    }
    if (row === undefined) return undefined;
    if (row.inline !== null) return this.#inlineHit(key, row);
    // An entry whose object was removed (by another process's prune) is a plain miss.
    if (row.objectHash === null) return undefined;
    if (
      row.key !== key ||
      row.objectHash !== row.hash ||
      typeof row.hash !== "string" ||
      row.seal !== entrySeal(row.key, row.task, row.hash)
    ) {
      this.#warnDamaged();
      return undefined;
    }
    if (row.data !== null && (!Buffer.isBuffer(row.data) || sha256(row.data) !== row.hash)) {
      this.#damaged.add(row.hash);
      this.#warnDamaged();
      return undefined;
    }
    const bytes = row.data ?? this.#blobs.get(row.hash);
    if (bytes === undefined) return undefined;
    return this.#decoded(bytes, row.hash);
  }

  /** A hit from an entry that holds its output: its seal covers key, task and bytes. */
  #inlineHit(key: string, row: Row): CacheHit | undefined {
    const bytes = row.inline;
    if (
      row.key !== key ||
      !Buffer.isBuffer(bytes) ||
      typeof row.task !== "string" ||
      row.seal !== inlineEntrySeal(key, row.task, bytes)
    ) {
      this.#warnDamaged();
      return undefined;
    }
    return this.#decoded(bytes, undefined);
  }

  /** Decodes stored bytes; undecodable bytes (of object `hash`, if any) are a miss and a warning. */
  #decoded(bytes: Uint8Array, hash: string | undefined): CacheHit | undefined {
    try {
      return { value: decodeValue(bytes) };
    } catch (error) {
      if (hash !== undefined) this.#damaged.add(hash);
      warnOnce(
        `A cached output (${hash === undefined ? "in its entry" : `object ${hash}`}) in ${this.#file} cannot be decoded (${String(error)}); the task runs again.`,
      );
      return undefined;
    }
  }

  /**
   * What `flyte-ts cache show` may print of the output under `key`: the output with known secret
   * values masked (those known when it was stored, and those this process knows).
   */
  shown(key: string): CacheHit | undefined {
    const hit = this.getNow(key);
    if (hit === undefined) return undefined;
    let masked: Buffer | null | undefined;
    try {
      masked = this.database
        ?.prepare<[string], { masked: Buffer | null }>(
          "SELECT o.masked AS masked FROM entries e JOIN objects o ON o.hash = e.hash WHERE e.key = ?",
        )
        .get(key)?.masked;
    } catch {
      masked = undefined;
    }
    let value = hit.value;
    if (masked !== null && masked !== undefined) {
      try {
        value = decodeValue(masked);
      } catch {
        value = "*** (this output held a secret value; its masked copy is damaged)";
      }
    }
    return { value: knownSecrets.maskValue(value) };
  }

  get #file(): string {
    return join(this.#home, "cache.db");
  }

  #warnDamaged(): void {
    warnOnce(
      `The cache database ${this.#file} holds damaged entries; each is treated as a miss (the task runs again and rewrites it).`,
    );
  }

  /**
   * Stores `value` under `key`; resolves once the transaction that holds it has committed.
   * Calls made in the same turn of the event loop share that transaction.
   */
  set(key: string, value: unknown, taskName: string): Promise<void> {
    if (this.database === undefined) return Promise.resolve();
    let pending: Pending;
    try {
      pending = this.#pending(key, value, taskName);
    } catch (error) {
      warnOnce(
        `The output of task \`${taskName}\` cannot be stored in the cache (${error instanceof Error ? error.message : String(error)}); ` +
          "it is not cached. Return plain data to make it cacheable.",
      );
      return Promise.resolve();
    }
    let batch = this.#batch;
    if (batch === undefined) {
      let done = () => {};
      const committed = new Promise<void>((resolve) => {
        done = resolve;
      });
      batch = this.#batch = { items: [], committed, done };
      setImmediate(() => this.#flush());
    }
    batch.items.push(pending);
    return batch.committed;
  }

  /**
   * A write, encoded and sealed. A small output without secrets goes in its entry (one hash,
   * the seal); others are stored by content hash.
   */
  #pending(key: string, value: unknown, task: string): Pending {
    const shown = knownSecrets.maskValue(value);
    const masked = shown === value ? undefined : encodeBytes(shown);
    const bytes = encodeBytes(value);
    if (masked === undefined && bytes.byteLength <= this.#entryMaxBytes)
      return { key, task, bytes, hash: "", seal: inlineEntrySeal(key, task, bytes), masked };
    const hash = sha256(bytes);
    return { key, task, bytes, hash, seal: entrySeal(key, task, hash), masked };
  }

  /** Writes every pending output in one transaction. */
  #flush(): void {
    const pending = this.#batch;
    if (pending === undefined) return;
    this.#batch = undefined;
    const batch = pending.items;
    const db = this.database;
    try {
      if (db === undefined) return;
      const now = Date.now();
      for (const p of batch) {
        // The file exists before any row points at it.
        if (p.bytes.byteLength > this.#inlineMaxBytes) this.#blobs.put(p.hash, p.bytes);
      }
      this.#writer ??= this.#makeWriter(db);
      this.#writer.immediate(batch, now);
    } catch (error) {
      notRecorded.note("cache entries", error, batch.length);
    } finally {
      pending.done();
    }
  }

  /** The transaction that writes one batch: an entry row per key, an object row per larger output. */
  #makeWriter(db: Database) {
    // Same hash, same bytes: an object already stored is left as it is (unless it was found damaged).
    const putObject = db.prepare(
      "INSERT OR IGNORE INTO objects (hash, size, data, masked) VALUES (?, ?, ?, ?)",
    );
    const replaceObject = db.prepare(
      "INSERT OR REPLACE INTO objects (hash, size, data, masked) VALUES (?, ?, ?, ?)",
    );
    const putEntry = db.prepare(
      "INSERT OR REPLACE INTO entries (key, task, hash, created_at, seal, data) VALUES (?, ?, ?, ?, ?, ?)",
    );
    return db.transaction((batch: readonly Pending[], now: number) => {
      for (const { key, task, bytes, hash, seal, masked } of batch) {
        if (hash === "") {
          putEntry.run(key, task, hash, now, seal, bytes);
          continue;
        }
        const size = bytes.byteLength;
        const data = size <= this.#inlineMaxBytes ? bytes : null;
        const put = this.#damaged.delete(hash) ? replaceObject : putObject;
        put.run(hash, size, data, masked ?? null);
        putEntry.run(key, task, hash, now, seal, null);
      }
    });
  }

  /**
   * Waits until `key` has a value (returned as `hit`) or this caller holds its lease (renewed
   * every `leaseMs / 3` until `release()`). Polls every `pollMs`: the other side is another process.
   */
  async lead(key: string, signal: AbortSignal): Promise<CacheLead> {
    try {
      const db = this.database;
      if (db === undefined) return { release: () => {} };
      return await leadKey(db, key, signal, {
        leaseMs: this.#leaseMs,
        pollMs: this.#pollMs,
        stored: (k) => this.getNow(k),
      });
    } catch (error) {
      if (signal.aborted) throw error;
      warnOnce(
        `The cache database could not hold a serialize lease (${String(error)}); identical calls in other processes may run too.`,
      );
      return { release: () => {} };
    }
  }

  /** Writes what is pending and closes the database (a later call opens it again). */
  close(): Promise<void> {
    this.#flush();
    this.#db?.close();
    this.#db = null;
    this.#writer = undefined;
    return Promise.resolve();
  }
}
