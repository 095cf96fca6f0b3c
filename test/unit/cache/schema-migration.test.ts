// Files written by an older flyte-ts keep working: cache entries are sealed as they are (and stay
// hits), runs recorded without their call are refused for resume rather than replayed unchecked.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { entrySeal } from "../../../src/cache/cache-schema.js";
import { SqliteCacheStore } from "../../../src/cache/sqlite-cache-store.js";
import { encodeValue } from "../../../src/cache/value-codec.js";
import { RunStore } from "../../../src/record/run-store.js";

const newHome = () => mkdtempSync(join(tmpdir(), "flyte-ts-migration-"));

describe("schema version 1 files", () => {
  it("keep their cache entries as hits once migrated", async () => {
    const home = newHome();
    const db = new Database(join(home, "cache.db"));
    db.exec(`
      CREATE TABLE objects (hash TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB) WITHOUT ROWID;
      CREATE TABLE entries (key TEXT PRIMARY KEY, task TEXT NOT NULL, hash TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
      PRAGMA user_version = 1;`);
    const { bytes, hash } = encodeValue({ answer: 42 });
    db.prepare("INSERT INTO objects VALUES (?, ?, ?)").run(hash, bytes.byteLength, bytes);
    db.prepare("INSERT INTO entries VALUES ('k1', 't.f', ?, 0)").run(hash);
    db.close();
    const store = new SqliteCacheStore(home);
    expect((await store.get("k1"))?.value).toEqual({ answer: 42 });
    expect(store.database?.pragma("user_version", { simple: true })).toBe(3);
    await store.close();
  });
});

describe("schema version 2 files", () => {
  it("keep their entries, which point at objects, as hits; new small outputs go in their entries", async () => {
    const home = newHome();
    const db = new Database(join(home, "cache.db"));
    db.exec(`
      CREATE TABLE objects (hash TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB, masked BLOB) WITHOUT ROWID;
      CREATE TABLE entries (key TEXT PRIMARY KEY, task TEXT NOT NULL, hash TEXT NOT NULL, created_at INTEGER NOT NULL, seal TEXT) WITHOUT ROWID;
      PRAGMA user_version = 2;`);
    const { bytes, hash } = encodeValue({ answer: 42 });
    db.prepare("INSERT INTO objects VALUES (?, ?, ?, NULL)").run(hash, bytes.byteLength, bytes);
    db.prepare("INSERT INTO entries VALUES ('k1', 't.f', ?, 0, ?)").run(
      hash,
      entrySeal("k1", "t.f", hash),
    );
    db.close();
    const store = new SqliteCacheStore(home);
    expect((await store.get("k1"))?.value).toEqual({ answer: 42 });
    await store.set("k2", { answer: 43 }, "t.f");
    expect((await store.get("k2"))?.value).toEqual({ answer: 43 });
    expect(store.database?.pragma("user_version", { simple: true })).toBe(3);
    expect(store.database?.prepare("SELECT key FROM entries WHERE data IS NOT NULL").all()).toEqual(
      [{ key: "k2" }],
    );
    await store.close();
  });

  it("say that a run recorded without its call is too old to resume", () => {
    const home = newHome();
    const db = new Database(join(home, "runs.db"));
    db.exec(`
      CREATE TABLE runs (name TEXT PRIMARY KEY, task TEXT NOT NULL, status TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER, error TEXT) WITHOUT ROWID;
      CREATE TABLE actions (run TEXT NOT NULL, id TEXT NOT NULL, parent TEXT, task TEXT NOT NULL, grp TEXT, status TEXT NOT NULL, cache_hit INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL, ended_at INTEGER, error TEXT, output BLOB, PRIMARY KEY (run, id)) WITHOUT ROWID;
      CREATE TABLE attempts (run TEXT NOT NULL, action TEXT NOT NULL, attempt INTEGER NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER, error TEXT, PRIMARY KEY (run, action, attempt)) WITHOUT ROWID;
      CREATE TABLE traces (run TEXT NOT NULL, action TEXT NOT NULL, trace TEXT NOT NULL, ok INTEGER NOT NULL, value BLOB, error TEXT, PRIMARY KEY (run, action, trace)) WITHOUT ROWID;
      CREATE TABLE events (run TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, action TEXT, at INTEGER NOT NULL, data TEXT, PRIMARY KEY (run, seq)) WITHOUT ROWID;
      INSERT INTO runs VALUES ('old', 'a.main', 'failed', 0, 1, NULL);
      PRAGMA user_version = 1;`);
    db.close();
    const store = new RunStore(home);
    expect(store.storedCall("old")).toMatchObject({ found: "older" });
    expect(store.has("old")).toBe(true);
    store.close();
  });
});
