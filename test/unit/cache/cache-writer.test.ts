// The cache writer thread: a fan-out's results are committed there before their `set` resolves,
// close() waits for them, a failed write is counted as not recorded, and a thread that cannot
// start or stops early leaves the rows to the calling thread, none lost. Real threads and files.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { prepareRowStatements, RowPacker, writeRows } from "../../../src/cache/cache-rows.js";
import { cacheSchema } from "../../../src/cache/cache-schema.js";
import { CacheWriter } from "../../../src/cache/cache-writer.js";
import { openDatabase } from "../../../src/cache/database.js";
import { SqliteCacheStore } from "../../../src/cache/sqlite-cache-store.js";
import { notRecorded } from "../../../src/internal/not-recorded.js";

const newHome = () => mkdtempSync(join(tmpdir(), "flyte-ts-cache-writer-"));

/** Rows in `home`'s cache.db, counted on a connection of its own (what another process sees). */
function committedRows(home: string, task: string): number {
  const db = new Database(join(home, "cache.db"), { readonly: true });
  try {
    return (
      db.prepare("SELECT count(*) AS n FROM entries WHERE task = ?").get(task) as { n: number }
    ).n;
  } finally {
    db.close();
  }
}

/**
 * A cache.db with its schema, a store on it, and a writer whose rows the thread could not write
 * are written through the store's connection (as the store does), counted in `here`.
 */
function writerFixture(threadFile?: string, thread?: URL) {
  const home = newHome();
  const file = join(home, "cache.db");
  openDatabase(file, cacheSchema, "test")?.close();
  const store = new SqliteCacheStore(home);
  const here: number[] = [];
  const writer = new CacheWriter(
    threadFile ?? file,
    (chunks, rows) => {
      here.push(rows);
      const db = store.database as Database.Database;
      const statements = prepareRowStatements(db);
      db.transaction(() => {
        for (const chunk of chunks) writeRows(statements, chunk, Date.now());
      })();
    },
    thread,
  );
  return { home, store, writer, here };
}

function packed(task: string, from: number, count: number): Uint8Array {
  const packer = new RowPacker();
  for (let i = from; i < from + count; i++)
    packer.add({ key: `${task}-${i}`, task, bytes: serialize(i) });
  return packer.take();
}

/** Posts `chunks` chunks of 100 rows as one batch; resolves when the writer calls its `done`. */
function postBatch(writer: CacheWriter, task: string, chunks: number): Promise<void> {
  return new Promise((done) => {
    const batch = writer.open(done);
    for (let c = 0; c < chunks; c++)
      writer.post(batch, packed(task, c * 100, 100), 100, c === chunks - 1);
  });
}

describe("SqliteCacheStore with its writer thread", () => {
  it("commits a fan-out's results before any of their set calls resolves, and reads them back", async () => {
    const home = newHome();
    const store = new SqliteCacheStore(home);
    const n = 3000;
    const sets = Array.from({ length: n }, (_, i) => store.set(`k${i}`, { i }, "t.fan"));
    const seenAtFirst = sets[0]?.then(() => committedRows(home, "t.fan"));
    await Promise.all(sets);
    expect(await seenAtFirst).toBe(n);
    const hits = Array.from({ length: n }, (_, i) => store.getNow(`k${i}`)?.value);
    expect(hits).toEqual(Array.from({ length: n }, (_, i) => ({ i })));
    await store.close();
  });

  it("keeps the order of writes to one key across the thread and the calling thread", async () => {
    const store = new SqliteCacheStore(newHome());
    const many = Array.from({ length: 1000 }, (_, i) => store.set(`k${i}`, "old", "t.order"));
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([...many, store.set("k7", "new", "t.order")]);
    expect(store.getNow("k7")?.value).toBe("new");
    await store.close();
  });

  it("writes what is pending when closed, and resolves every set", async () => {
    const home = newHome();
    const store = new SqliteCacheStore(home);
    const sets = Array.from({ length: 2000 }, (_, i) => store.set(`k${i}`, i, "t.close"));
    await store.close();
    expect(committedRows(home, "t.close")).toBe(2000);
    await Promise.all(sets);
  });

  it("counts a batch the thread could not write as cache entries not recorded", async () => {
    const home = newHome();
    const store = new SqliteCacheStore(home);
    // A real SQLite failure inside the thread's transaction, as a full disk would raise.
    store.database?.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON entries WHEN NEW.key = 'poison' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    );
    notRecorded.take(home);
    const sets = Array.from({ length: 1500 }, (_, i) =>
      store.set(i === 1200 ? "poison" : `k${i}`, i, "t.full"),
    );
    await Promise.all(sets);
    expect(notRecorded.take(home)).toMatch(/1500 cache entries/);
    expect(committedRows(home, "t.full")).toBe(0);
    await store.close();
  });
});

describe("CacheWriter", () => {
  it("writes a batch posted in chunks on its thread, in one transaction", async () => {
    const { home, store, writer, here } = writerFixture();
    await postBatch(writer, "t.chunks", 5);
    expect(here).toEqual([]);
    expect(committedRows(home, "t.chunks")).toBe(500);
    expect(store.getNow("t.chunks-499")?.value).toBe(499);
    await writer.close();
    await store.close();
  });

  it("writes on the calling thread when its thread cannot open the file", async () => {
    const elsewhere = newHome();
    mkdirSync(join(elsewhere, "not-a-database.db"));
    const { home, store, writer, here } = writerFixture(join(elsewhere, "not-a-database.db"));
    await postBatch(writer, "t.fallback", 3);
    expect(here).toEqual([300]);
    expect(committedRows(home, "t.fallback")).toBe(300);
    expect(writer.usable).toBe(false);
    await store.close();
  });

  it("writes on the calling thread when its thread fails to start", async () => {
    const broken = new URL("data:text/javascript,throw new Error('no thread here')");
    const { home, store, writer, here } = writerFixture(undefined, broken);
    await postBatch(writer, "t.broken", 2);
    expect(here).toEqual([200]);
    expect(committedRows(home, "t.broken")).toBe(200);
    await store.close();
  });

  it("writes a batch on the calling thread when its thread stopped halfway through it", async () => {
    const { home, store, writer, here } = writerFixture();
    const done = new Promise<void>((resolve) => {
      const batch = writer.open(resolve);
      writer.post(batch, packed("t.half", 0, 100), 100, false);
      // The thread stops (rolling back the open transaction) before the batch's last chunk.
      void writer.close().then(() => writer.post(batch, packed("t.half", 100, 100), 100, true));
    });
    await done;
    expect(here).toEqual([200]);
    expect(committedRows(home, "t.half")).toBe(200);
    await store.close();
  });
});
