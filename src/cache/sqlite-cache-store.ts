/**
 * The local cache: `<home>/cache.db` on better-sqlite3, content-addressed. An output is encoded
 * once, stored under the SHA-256 of its bytes (`objects`), and keys point at that hash
 * (`entries`), so identical outputs are stored once. Outputs over 1 MB live in the blob store.
 * Writes made in the same turn of the event loop share one transaction (a fan-out's results cost
 * one commit, not one each). Every read is verified: the row's key against the key asked for, the
 * row's seal (a hash binding key, task and object) and the output's bytes against their content
 * hash. Anything unreadable or damaged is a miss plus one warning naming the file, never a wrong
 * value. A write that fails (a full disk) loses only the cache entry: it is noted for the run's
 * one "not recorded" warning.
 * @module
 */
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { notRecorded } from "../internal/not-recorded.js";
import { knownSecrets } from "../internal/secret-mask.js";
import { warnOnce } from "../internal/warn.js";
import { BlobStore } from "./blob-store.js";
import type { CacheHit, CacheLead, CacheStore } from "./cache-store.js";
import { type Database, openDatabase, type Schema } from "./database.js";
import type { DigestMemo } from "./file-digest.js";
import { leaseHolderIsGone, newLeaseOwner } from "./lease-owner.js";
import { decodeValue, type EncodedValue, encodeValue, sha256 } from "./value-codec.js";

/**
 * The schema of `cache.db`; bump `version` on any incompatible change. Two B-trees per write
 * and no secondary indexes: listing by task and collecting orphans (the CLI) scan instead.
 * Version 2 added `entries.seal` ({@link entrySeal}) and `objects.masked` (what `cache show`
 * shows of an output that holds a known secret value).
 */
export const cacheSchema: Schema = {
  version: 2,
  ddl: `
    CREATE TABLE IF NOT EXISTS objects (
      hash TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB, masked BLOB
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS entries (
      key TEXT PRIMARY KEY, task TEXT NOT NULL, hash TEXT NOT NULL, created_at INTEGER NOT NULL,
      seal TEXT
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS leases (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS file_digests (
      path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime TEXT NOT NULL, digest BLOB NOT NULL
    ) WITHOUT ROWID;
  `,
  migrate(db, from) {
    if (from < 2) {
      db.exec(
        "ALTER TABLE objects ADD COLUMN masked BLOB; ALTER TABLE entries ADD COLUMN seal TEXT;",
      );
      // Rows written by version 1 are trusted as they are: they get their seal now.
      db.function("flyte_entry_seal", { deterministic: true }, (key, task, hash) =>
        entrySeal(String(key), String(task), String(hash)),
      );
      db.exec("UPDATE entries SET seal = flyte_entry_seal(key, task, hash)");
    }
  },
};

/**
 * The seal of an `entries` row: a hash binding its key, task and object hash, checked on every
 * read, so that a damaged cell (a key, or the hash it points at) is a miss, never another input's
 * output.
 */
export function entrySeal(key: string, task: string, hash: string): string {
  return sha256(Buffer.from(`${key}\n${task}\n${hash}`)).slice(0, 32);
}

/** Options of {@link SqliteCacheStore}. */
export interface SqliteCacheStoreOptions {
  /** Outputs larger than this go to blob files. Bytes. @default 1_048_576 */
  inlineMaxBytes?: number;
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
  readonly encoded: EncodedValue;
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
  readonly objectHash: string;
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
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 50;
  }

  /** The open database, or `undefined` when it cannot be used (warned once). */
  get database(): Database | undefined {
    if (this.#db === null) {
      this.#db = openDatabase(join(this.#home, "cache.db"), cacheSchema, "The cache database");
      this.#select = this.#db?.prepare<[string], Row>(
        "SELECT e.key AS key, e.task AS task, e.hash AS hash, e.seal AS seal, o.hash AS objectHash, o.data AS data " +
          "FROM entries e JOIN objects o ON o.hash = e.hash WHERE e.key = ?",
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
    try {
      return { value: decodeValue(bytes) };
    } catch (error) {
      this.#damaged.add(row.hash);
      warnOnce(
        `A cached output (object ${row.hash}) in ${this.#file} cannot be decoded (${String(error)}); the task runs again.`,
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
    let encoded: EncodedValue;
    let masked: Buffer | undefined;
    try {
      encoded = encodeValue(value);
      const shown = knownSecrets.maskValue(value);
      if (shown !== value) masked = encodeValue(shown).bytes;
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
    batch.items.push({ key, task: taskName, encoded, masked });
    return batch.committed;
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
        if (p.encoded.bytes.byteLength > this.#inlineMaxBytes)
          this.#blobs.put(p.encoded.hash, p.encoded.bytes);
      }
      this.#writer ??= this.#makeWriter(db);
      this.#writer.immediate(batch, now);
    } catch (error) {
      notRecorded.note("cache entries", error, batch.length);
    } finally {
      pending.done();
    }
  }

  /** The transaction that writes one batch: an object row per output, an entry row per key. */
  #makeWriter(db: Database) {
    // Same hash, same bytes: an object already stored is left as it is (unless it was found damaged).
    const putObject = db.prepare(
      "INSERT OR IGNORE INTO objects (hash, size, data, masked) VALUES (?, ?, ?, ?)",
    );
    const replaceObject = db.prepare(
      "INSERT OR REPLACE INTO objects (hash, size, data, masked) VALUES (?, ?, ?, ?)",
    );
    const putEntry = db.prepare(
      "INSERT OR REPLACE INTO entries (key, task, hash, created_at, seal) VALUES (?, ?, ?, ?, ?)",
    );
    return db.transaction((batch: readonly Pending[], now: number) => {
      for (const { key, task, encoded, masked } of batch) {
        const size = encoded.bytes.byteLength;
        const data = size <= this.#inlineMaxBytes ? encoded.bytes : null;
        const put = this.#damaged.delete(encoded.hash) ? replaceObject : putObject;
        put.run(encoded.hash, size, data, masked ?? null);
        putEntry.run(key, task, encoded.hash, now, entrySeal(key, task, encoded.hash));
      }
    });
  }

  /**
   * Waits until `key` has a value (returned as `hit`) or this caller holds its lease (renewed
   * every `leaseMs / 3` until `release()`). Polls every `pollMs`: the other side is another process.
   */
  async lead(key: string, signal: AbortSignal): Promise<CacheLead> {
    try {
      return await this.#lead(key, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      warnOnce(
        `The cache database could not hold a serialize lease (${String(error)}); identical calls in other processes may run too.`,
      );
      return { release: () => {} };
    }
  }

  async #lead(key: string, signal: AbortSignal): Promise<CacheLead> {
    const db = this.database;
    if (db === undefined) return { release: () => {} };
    const owner = newLeaseOwner();
    const stored = db.prepare<[string], { found: number }>(
      "SELECT 1 AS found FROM entries WHERE key = ?",
    );
    // The value check and the lease are one transaction: a leader that stores its value and
    // releases between a waiter's check and its take would otherwise run the call twice.
    const take = db.transaction((now: number, unreadable: boolean): "stored" | "taken" | "held" => {
      if (!unreadable && stored.get(key) !== undefined) return "stored";
      const holder = db
        .prepare<[string], { owner: string; expires_at: number }>(
          "SELECT owner, expires_at FROM leases WHERE key = ?",
        )
        .get(key);
      // A holder on this host that has died is seen at once; one on another host only expires.
      if (holder !== undefined && holder.expires_at > now && !leaseHolderIsGone(holder.owner))
        return "held";
      db.prepare("INSERT OR REPLACE INTO leases (key, owner, expires_at) VALUES (?, ?, ?)").run(
        key,
        owner,
        now + this.#leaseMs,
      );
      return "taken";
    });
    // A stored value that cannot be read (damaged; getNow warned) is computed again.
    let unreadable = false;
    for (;;) {
      signal.throwIfAborted();
      const hit = this.getNow(key);
      if (hit !== undefined) return { hit };
      const outcome = take.immediate(Date.now(), unreadable);
      if (outcome === "taken") break;
      if (outcome === "stored") unreadable = true;
      else await pause(this.#pollMs, signal);
    }
    const renew = db.prepare("UPDATE leases SET expires_at = ? WHERE key = ? AND owner = ?");
    const heartbeat = setInterval(() => {
      try {
        renew.run(Date.now() + this.#leaseMs, key, owner);
      } catch {
        // A missed heartbeat at worst lets a waiter start early; the result is the same.
      }
    }, this.#leaseMs / 3);
    heartbeat.unref();
    return {
      release: () => {
        clearInterval(heartbeat);
        try {
          db.prepare("DELETE FROM leases WHERE key = ? AND owner = ?").run(key, owner);
        } catch {
          // The lease expires by itself.
        }
      },
    };
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

/** Waits `ms` of wall time, or until `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
