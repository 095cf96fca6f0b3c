/**
 * The local cache: `<home>/cache.db` on better-sqlite3. A small output (at most 512 bytes
 * encoded) lives in its entry row; a larger one is stored once under the SHA-256 of its bytes
 * (`objects`) and its entries point at that hash, so identical outputs are stored once. Outputs
 * over 1 MB live in the blob store. Writes made in the same turn of the event loop share one
 * transaction (a fan-out's results cost one commit, not one each), and each `set` resolves only
 * once that transaction has committed. A turn with many writes (over 512: a fan-out's results)
 * has its transaction written on a writer thread while the writes are still being encoded here
 * (write-batches.ts); if that thread cannot start or stops, its rows are written here instead.
 * Every read is verified: the row's key against the key
 * asked for and the row's seal (a hash binding key, task and the output's bytes, or the object's
 * hash whose bytes are checked against it). Anything unreadable or damaged is a miss plus one
 * warning naming the file, never a wrong value. A write that fails (a full disk) loses only the
 * cache entry: it is noted for the run's one "not recorded" warning.
 * @module
 */
import { join } from "node:path";
import type { Statement } from "better-sqlite3";
import { notRecorded } from "../internal/not-recorded.js";
import { knownSecrets } from "../internal/secret-mask.js";
import { warnOnce } from "../internal/warn.js";
import { BlobStore } from "./blob-store.js";
import { leadKey } from "./cache-lease.js";
import type { RowPacker } from "./cache-rows.js";
import { cacheSchema, entrySeal, inlineEntrySeal } from "./cache-schema.js";
import type { CacheHit, CacheLead, CacheStore } from "./cache-store.js";
import { type Database, openDatabase } from "./database.js";
import type { DigestMemo } from "./file-digest.js";
import { decodeValue, encodeBytes, sha256 } from "./value-codec.js";
import { endThreadBatches, WriteBatches } from "./write-batches.js";

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
  readonly #writes: WriteBatches;
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
    this.#writes = new WriteBatches(this.#file, () => this.database);
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
          endThreadBatches();
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
   * Calls made in the same turn of the event loop share that transaction; when they are many
   * (a fan-out's results), it is written on the writer thread while they are encoded.
   */
  set(key: string, value: unknown, taskName: string): Promise<void> {
    if (this.database === undefined) return Promise.resolve();
    const batch = this.#writes.current();
    try {
      this.#pack(batch.rows, key, value, taskName);
    } catch (error) {
      warnOnce(
        `The output of task \`${taskName}\` cannot be stored in the cache (${error instanceof Error ? error.message : String(error)}); ` +
          "it is not cached. Return plain data to make it cacheable.",
      );
      return Promise.resolve();
    }
    this.#writes.packed();
    return batch.committed;
  }

  /**
   * Encodes a write into `rows`. A small output without secrets goes in its entry (sealed where
   * it is written); others are stored by content hash, an output over the blob limit in a
   * blob file (written now: the file exists before any row points at it).
   */
  #pack(rows: RowPacker, key: string, value: unknown, task: string): void {
    const shown = knownSecrets.maskValue(value);
    const masked = shown === value ? undefined : encodeBytes(shown);
    const bytes = encodeBytes(value);
    if (masked === undefined && bytes.byteLength <= this.#entryMaxBytes) {
      rows.add({ key, task, bytes });
      return;
    }
    const hash = sha256(bytes);
    const blob = bytes.byteLength > this.#inlineMaxBytes;
    if (blob) {
      try {
        this.#blobs.put(hash, bytes);
      } catch (error) {
        notRecorded.note("cache entries", error, 1);
        return;
      }
    }
    const seal = entrySeal(key, task, hash);
    rows.add({
      key,
      task,
      bytes,
      object: { hash, seal, blob, replace: this.#damaged.delete(hash), masked },
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
        beforeWrite: endThreadBatches,
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

  /** Writes what is pending, waits for the writer thread, and closes the database (a later call opens it again). */
  async close(): Promise<void> {
    await this.#writes.close();
    this.#db?.close();
    this.#db = null;
  }
}
