// One suite for every CacheStore, then what only the SQLite store promises: content addressing,
// blob files, and a miss plus one warning (never a wrong value) for each kind of damage.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CacheStore } from "../../../src/cache/cache-store.js";
import { MemoryCacheStore } from "../../../src/cache/cache-store.js";
import { SqliteCacheStore } from "../../../src/cache/sqlite-cache-store.js";
import { encodeValue } from "../../../src/cache/value-codec.js";

const newHome = () => mkdtempSync(join(tmpdir(), "flyte-ts-cache-"));

const stores: [string, () => CacheStore][] = [
  ["MemoryCacheStore", () => new MemoryCacheStore()],
  ["SqliteCacheStore", () => new SqliteCacheStore(newHome())],
];

describe.each(stores)("%s", (_name, make) => {
  it("returns what was stored under a key, as a copy", async () => {
    const store = make();
    const value = { a: [1, 2], m: new Map([["x", 1n]]), d: new Date(5), u: undefined };
    await store.set("k1", value, "t.task");
    const hit = await store.get("k1");
    expect(hit?.value).toEqual(value);
    expect(hit?.value).not.toBe(value);
    await store.close();
  });

  it("misses a key that was never stored", async () => {
    const store = make();
    expect(await store.get("nothing")).toBeUndefined();
    await store.close();
  });

  it("replaces the value of a key written twice", async () => {
    const store = make();
    await store.set("k", 1, "t.task");
    await store.set("k", 2, "t.task");
    expect((await store.get("k"))?.value).toBe(2);
    await store.close();
  });
});

describe("SqliteCacheStore", () => {
  let warnings: string[] = [];
  const spy = () => {
    warnings = [];
    return vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      warnings.push(String(chunk));
      return true;
    });
  };
  afterEach(() => vi.restoreAllMocks());

  it("stores identical outputs over 512 bytes once and keeps them across store instances", async () => {
    const home = newHome();
    const store = new SqliteCacheStore(home);
    const same = { same: "x".repeat(600) };
    await Promise.all([store.set("a", same, "t.a"), store.set("b", same, "t.b")]);
    await store.close();
    const db = new Database(join(home, "cache.db"), { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM objects").get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT count(*) AS n FROM entries WHERE data IS NULL").get()).toEqual({
      n: 2,
    });
    db.close();
    const again = new SqliteCacheStore(home);
    expect((await again.get("b"))?.value).toEqual(same);
    await again.close();
  });

  it("keeps a small output in its entry row, one row per write, across store instances", async () => {
    const home = newHome();
    const store = new SqliteCacheStore(home);
    await Promise.all([
      store.set("a", { same: true }, "t.a"),
      store.set("b", { same: true }, "t.b"),
    ]);
    await store.close();
    const db = new Database(join(home, "cache.db"), { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM objects").get()).toEqual({ n: 0 });
    expect(
      db.prepare("SELECT count(*) AS n FROM entries WHERE data IS NOT NULL AND hash = ''").get(),
    ).toEqual({ n: 2 });
    db.close();
    const again = new SqliteCacheStore(home);
    expect((await again.get("a"))?.value).toEqual({ same: true });
    expect((await again.get("b"))?.value).toEqual({ same: true });
    await again.close();
  });

  it("keeps outputs over the inline limit as verified blob files", async () => {
    const home = newHome();
    const store = new SqliteCacheStore(home, { inlineMaxBytes: 100 });
    const big = new Float64Array(1000).fill(1.5);
    await store.set("big", big, "t.big");
    const dir = join(home, "blobs", "sha256");
    const [prefix] = readdirSync(dir);
    const [file] = readdirSync(join(dir, prefix as string));
    expect(file?.startsWith(prefix as string)).toBe(true);
    expect((await store.get("big"))?.value).toEqual(big);
    await store.close();
  });

  it("treats a damaged object row as a miss with one warning", async () => {
    const home = newHome();
    const store = new SqliteCacheStore(home, { entryMaxBytes: 0 });
    await store.set("k", "right", "t.k");
    const db = new Database(join(home, "cache.db"));
    db.prepare("UPDATE objects SET data = ?").run(Buffer.from("garbage that is not the value"));
    db.close();
    spy();
    expect(await store.get("k")).toBeUndefined();
    expect(warnings.join("")).toMatch(/damaged/);
    await store.close();
  });

  it.each([
    ["output", "UPDATE entries SET data = ? WHERE key = 'k'", encodeValue("wrong").bytes],
    ["task", "UPDATE entries SET task = ? WHERE key = 'k'", "t.other"],
    ["seal", "UPDATE entries SET seal = ? WHERE key = 'k'", "0".repeat(32)],
  ])(
    "treats an entry row whose %s cell changed as a miss with one warning",
    async (_, sql, cell) => {
      const home = newHome();
      const store = new SqliteCacheStore(home);
      await store.set("k", "right", "t.k");
      const db = new Database(join(home, "cache.db"));
      db.prepare(sql).run(cell);
      db.close();
      spy();
      expect(await store.get("k")).toBeUndefined();
      expect(warnings.join("")).toMatch(/damaged/);
      await store.close();
    },
  );

  it("answers an entry whose data cell holds another entry's output as a miss, never that output", async () => {
    const home = newHome();
    const store = new SqliteCacheStore(home);
    await Promise.all([store.set("k1", "one", "t.k"), store.set("k2", "two", "t.k")]);
    const db = new Database(join(home, "cache.db"));
    db.prepare(
      "UPDATE entries SET data = (SELECT data FROM entries WHERE key = 'k2') WHERE key = 'k1'",
    ).run();
    db.close();
    spy();
    expect(await store.get("k1")).toBeUndefined();
    expect((await store.get("k2"))?.value).toBe("two");
    await store.close();
  });

  it("treats a missing or damaged blob as a miss with one warning", async () => {
    const home = newHome();
    const store = new SqliteCacheStore(home, { inlineMaxBytes: 10 });
    await store.set("gone", "a value long enough for a blob", "t.k");
    await store.set("bent", "another value long enough for a blob", "t.k");
    const db = new Database(join(home, "cache.db"), { readonly: true });
    const hashOf = (key: string) =>
      (db.prepare("SELECT hash FROM entries WHERE key = ?").get(key) as { hash: string }).hash;
    const gone = store.blobs.path(hashOf("gone"));
    const bent = store.blobs.path(hashOf("bent"));
    db.close();
    rmSync(gone);
    writeFileSync(bent, Buffer.concat([readFileSync(bent), Buffer.from("x")]));
    spy();
    expect(await store.get("gone")).toBeUndefined();
    expect(await store.get("bent")).toBeUndefined();
    expect(warnings.join("")).toMatch(/missing/);
    expect(warnings.join("")).toMatch(/damaged/);
    await store.close();
  });

  it("leaves a database from a newer schema alone: misses, one warning, no crash", async () => {
    const home = newHome();
    const db = new Database(join(home, "cache.db"));
    db.pragma("user_version = 99");
    db.close();
    spy();
    const store = new SqliteCacheStore(home);
    await store.set("k", 1, "t.k");
    expect(await store.get("k")).toBeUndefined();
    expect(warnings.join("")).toMatch(/schema version 99/);
    await store.close();
  });

  it("treats a file that is not a database as a miss with one warning", async () => {
    const home = newHome();
    writeFileSync(join(home, "cache.db"), "this is not SQLite ".repeat(100));
    spy();
    const store = new SqliteCacheStore(home);
    await store.set("k", 1, "t.k");
    expect(await store.get("k")).toBeUndefined();
    expect(warnings.join("")).toMatch(/could not be opened/);
    await store.close();
  });

  it("does not cache an output it cannot encode, and says so", async () => {
    const store = new SqliteCacheStore(newHome());
    spy();
    await store.set("f", { f: () => 1 }, "t.fn");
    expect(await store.get("f")).toBeUndefined();
    expect(warnings.join("")).toMatch(/t\.fn.*not cached/);
    await store.close();
  });

  it("writes a burst of results in one transaction and loses none", async () => {
    const store = new SqliteCacheStore(newHome());
    await Promise.all(Array.from({ length: 5000 }, (_, i) => store.set(`k${i}`, i, "t.many")));
    const hits = await Promise.all(Array.from({ length: 5000 }, (_, i) => store.get(`k${i}`)));
    expect(hits.map((h) => h?.value)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    await store.close();
  });

  it("gives a serialized key to one leader; a waiter gets the leader's value", async () => {
    const home = newHome();
    const leader = new SqliteCacheStore(home, { pollMs: 5 });
    const waiter = new SqliteCacheStore(home, { pollMs: 5 });
    const signal = new AbortController().signal;
    const lead = await leader.lead("k", signal);
    expect(lead.hit).toBeUndefined();
    const waiting = waiter.lead("k", signal);
    await leader.set("k", "from the leader", "t.k");
    lead.release?.();
    expect((await waiting).hit?.value).toBe("from the leader");
    await leader.close();
    await waiter.close();
  });

  it("lets a waiter take over when the leader's lease expires without a value", async () => {
    const home = newHome();
    // The leader never renews: its heartbeat runs every leaseMs / 3, so the lease is long and the
    // row is backdated below, as a crashed process would leave it.
    const leader = new SqliteCacheStore(home, { leaseMs: 60_000 });
    const waiter = new SqliteCacheStore(home, { pollMs: 5 });
    const signal = new AbortController().signal;
    const lead = await leader.lead("k", signal);
    expect(lead.hit).toBeUndefined();
    const db = new Database(join(home, "cache.db"));
    db.prepare("UPDATE leases SET expires_at = 0").run();
    db.close();
    const taken = await waiter.lead("k", signal);
    expect(taken.hit).toBeUndefined();
    expect(typeof taken.release).toBe("function");
    taken.release?.();
    await leader.close();
    await waiter.close();
  });
});
