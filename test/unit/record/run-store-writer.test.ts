// The run store's writer thread: rows posted to it are committed by the time settle() returns,
// failures come back with their code, closing leaves the file whole (no rows left in the WAL),
// and a long burst of writes leaves a bounded WAL, emptied once the thread has nothing to write.
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../../src/cache/database.js";
import { WAL_CHECKPOINT_PAGES } from "../../../src/record/run-database.js";
import { runSchema } from "../../../src/record/run-schema.js";
import { RunStoreWriter, type WriterFailure } from "../../../src/record/run-store-writer.js";

function newFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), "flyte-ts-writer-")), "runs.db");
  openDatabase(file, runSchema, "The run store")?.close();
  return file;
}

const insertRun = "INSERT INTO runs (name, task, status, started_at) VALUES (?, ?, 'running', ?)";
const insertTrace = "INSERT INTO traces (run, action, trace, ok, value) VALUES (?, ?, ?, 1, ?)";
const walBytes = (file: string) => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

describe("the run store's writer thread", () => {
  it("commits every posted batch by the time settle returns", () => {
    const file = newFile();
    const failures: WriterFailure[] = [];
    const writer = new RunStoreWriter(file, (f) => failures.push(f));
    for (let b = 0; b < 20; b++) {
      const events: unknown[] = [];
      for (let i = 0; i < 100; i++)
        events.push("r", b * 100 + i, "action-queued", `a${i}`, 1, null);
      writer.post({ rows: [insertRun, [`r${b}`, "t", b]], events });
    }
    expect(writer.settle()).toBe(true);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM runs").get()).toEqual({ n: 20 });
    expect(db.prepare("SELECT count(*) AS n FROM events").get()).toEqual({ n: 2_000 });
    db.close();
    expect(failures).toEqual([]);
    writer.close();
  });

  it("reports a batch that could not be written, with SQLite's code, and goes on", () => {
    const file = newFile();
    const failures: WriterFailure[] = [];
    const writer = new RunStoreWriter(file, (f) => failures.push(f));
    writer.post({ rows: [insertRun, ["dup", "t", 1]], events: [] });
    writer.post({ rows: [insertRun, ["dup", "t", 2]], events: [] });
    writer.post({ rows: [insertRun, ["next", "t", 3]], events: [] });
    expect(writer.settle()).toBe(true);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.code).toBe("SQLITE_CONSTRAINT_PRIMARYKEY");
    writer.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT name FROM runs ORDER BY name").all()).toEqual([
      { name: "dup" },
      { name: "next" },
    ]);
    db.close();
  });

  it("closes its connection on close, leaving no rows in the WAL", () => {
    const file = newFile();
    const writer = new RunStoreWriter(file, () => {});
    writer.post({ rows: [insertRun, ["r", "t", 1]], events: [] });
    writer.close();
    const wal = `${file}-wal`;
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
  });

  it("keeps the WAL bounded through a burst larger than it, and empties it once idle", async () => {
    const file = newFile();
    const failures: WriterFailure[] = [];
    const writer = new RunStoreWriter(file, (f) => failures.push(f));
    // A reader that stays open, as the run store's own connection does: closing the writer's
    // connection is not what empties the WAL.
    const reader = new Database(file, { readonly: true });
    const value = Buffer.alloc(2 ** 20, 7);
    const megabytes = (WAL_CHECKPOINT_PAGES * 4096) / 2 ** 20 + 8;
    let peak = 0;
    for (let b = 0; b < megabytes; b++) {
      writer.post({ rows: [insertTrace, ["r", `a${b}`, "t", value]], events: [] });
      if (b % 8 === 7) {
        expect(writer.settle()).toBe(true);
        peak = Math.max(peak, walBytes(file));
      }
    }
    expect(writer.settle()).toBe(true);
    expect(failures).toEqual([]);
    // One checkpoint's worth of pages, and the batch that made it checkpoint.
    expect(peak).toBeLessThanOrEqual((WAL_CHECKPOINT_PAGES + 600) * 4096);
    expect(peak).toBeGreaterThan(0);
    await expect.poll(() => walBytes(file), { timeout: 10_000 }).toBe(0);
    expect(reader.prepare("SELECT count(*) AS n FROM traces").get()).toEqual({ n: megabytes });
    reader.close();
    writer.close();
  });
});
