// runs.db schema version 4 keeps an action's label, inputs and output preview on its own row; a
// file written by version 3 (where they rode on event rows) is migrated and still shows them.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { loadActionIo, loadActionValues } from "../../../src/record/action-io.js";
import { RunStore } from "../../../src/record/run-store.js";

const v3 = `
  CREATE TABLE runs (
    name TEXT PRIMARY KEY, task TEXT NOT NULL, status TEXT NOT NULL,
    started_at INTEGER NOT NULL, ended_at INTEGER, error TEXT,
    inputs_hash TEXT, version TEXT, module TEXT, args BLOB, seal TEXT
  ) WITHOUT ROWID;
  CREATE TABLE actions (
    run TEXT NOT NULL, id TEXT NOT NULL, parent TEXT, task TEXT NOT NULL, grp TEXT,
    status TEXT NOT NULL, cache_hit INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL,
    ended_at INTEGER, error TEXT, output BLOB, seal TEXT, PRIMARY KEY (run, id)
  ) WITHOUT ROWID;
  CREATE TABLE attempts (
    run TEXT NOT NULL, action TEXT NOT NULL, attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL, ended_at INTEGER, error TEXT, phases TEXT,
    PRIMARY KEY (run, action, attempt)
  ) WITHOUT ROWID;
  CREATE TABLE traces (
    run TEXT NOT NULL, action TEXT NOT NULL, trace TEXT NOT NULL, ok INTEGER NOT NULL,
    value BLOB, error TEXT, seal TEXT, PRIMARY KEY (run, action, trace)
  ) WITHOUT ROWID;
  CREATE TABLE events (
    run TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, action TEXT,
    at INTEGER NOT NULL, data TEXT, PRIMARY KEY (run, seq)
  ) WITHOUT ROWID;
  PRAGMA user_version = 3;
`;

describe("runs.db schema version 4", () => {
  it("migrates a version 3 file: its actions' labels, inputs and outputs are still shown", () => {
    const home = mkdtempSync(join(tmpdir(), "flyte-ts-schema-"));
    const old = new Database(join(home, "runs.db"));
    old.exec(v3);
    old
      .prepare("INSERT INTO actions (run, id, task, status, queued_at) VALUES (?, ?, ?, ?, ?)")
      .run("old", "a1", "m.train", "succeeded", 1);
    const insert = old.prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)");
    insert.run(
      "old",
      1,
      "action-queued",
      "a1",
      1,
      JSON.stringify({
        label: "train(lr=0.5)",
        inputs: [{ name: "lr", preview: "0.5" }],
        exact: true,
      }),
    );
    insert.run(
      "old",
      2,
      "action-finished",
      "a1",
      2,
      JSON.stringify({ status: "succeeded", output: "7" }),
    );
    old.close();

    const store = new RunStore(home);
    const db = store.database;
    if (db === undefined) throw new Error("runs.db did not open");
    expect(db.pragma("user_version", { simple: true })).toBe(4);
    expect(loadActionIo(db, "old").get("a1")).toEqual({
      label: "train(lr=0.5)",
      inputs: [{ name: "lr", preview: "0.5" }],
      output: "7",
    });
    expect(loadActionValues(db, "old", "a1").inputs).toEqual([0.5]);
    store.close();
  });
});
