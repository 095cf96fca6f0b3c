/**
 * The layout of `cache.db` and the seals that make a damaged row a miss, never another input's
 * output.
 * @module
 */
import type { Schema } from "./database.js";
import { sha256 } from "./value-codec.js";

/**
 * The schema of `cache.db`; bump `version` on any incompatible change. No secondary indexes:
 * listing by task and collecting orphans (the CLI) scan instead.
 * - Version 2 added `entries.seal` ({@link entrySeal}) and `objects.masked` (what `cache show`
 *   shows of an output that holds a known secret value).
 * - Version 3 added `entries.data`: an output of at most `entryMaxBytes` lives in its entry row
 *   (`hash` is then `''`, sealed by {@link inlineEntrySeal}), so writing it touches one B-tree,
 *   not two; a 64-character content hash and an `objects` row would cost more than the bytes
 *   they deduplicate. Larger outputs are stored once by content hash in `objects` (or as blob
 *   files), as before.
 */
export const cacheSchema: Schema = {
  version: 3,
  ddl: `
    CREATE TABLE IF NOT EXISTS objects (
      hash TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB, masked BLOB
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS entries (
      key TEXT PRIMARY KEY, task TEXT NOT NULL, hash TEXT NOT NULL, created_at INTEGER NOT NULL,
      seal TEXT, data BLOB
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
    // Older rows keep pointing at their objects; only new small outputs are written inline.
    if (from < 3) db.exec("ALTER TABLE entries ADD COLUMN data BLOB");
  },
};

/**
 * The seal of an `entries` row that points at an object: a hash binding its key, task and object
 * hash, checked on every read, so that a damaged cell (a key, or the hash it points at) is a
 * miss, never another input's output.
 */
export function entrySeal(key: string, task: string, hash: string): string {
  return sha256(Buffer.from(`${key}\n${task}\n${hash}`)).slice(0, 32);
}

/**
 * The seal of an `entries` row that holds its output's bytes: one hash over key, task and bytes,
 * so a damaged key, task or output is a miss. It is also the only hash such a write computes.
 */
export function inlineEntrySeal(key: string, task: string, bytes: Uint8Array): string {
  const head = `${key}\n${task}\n`;
  const headBytes = Buffer.byteLength(head);
  const sealed = Buffer.allocUnsafe(headBytes + bytes.byteLength);
  sealed.write(head, 0, "utf8");
  sealed.set(bytes, headBytes);
  return inlineSealOf(sealed);
}

/**
 * {@link inlineEntrySeal} of the bytes `key \n task \n output` (UTF-8), laid out by the caller
 * (cache-rows.ts packs rows that way, so a write's seal is hashed where it lies).
 */
export function inlineSealOf(sealed: Uint8Array): string {
  return sha256(sealed).slice(0, 32);
}
