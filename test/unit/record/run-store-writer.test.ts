// The run store's writer thread: rows posted to it are committed by the time settle() returns,
// failures come back with their code, and closing leaves the file whole (no rows left in the WAL).
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../../src/cache/database.js";
import { runSchema } from "../../../src/record/run-schema.js";
import { RunStoreWriter, type WriterFailure } from "../../../src/record/run-store-writer.js";

function newFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), "flyte-ts-writer-")), "runs.db");
  openDatabase(file, runSchema, "The run store")?.close();
  return file;
}

const insertRun = "INSERT INTO runs (name, task, status, started_at) VALUES (?, ?, 'running', ?)";

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
});
