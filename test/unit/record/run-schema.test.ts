// runs.db files of older schema versions migrate and stay readable: version 3 kept an action's
// label, inputs and output preview on event rows (version 4 moved them onto its own row); version
// 4 keyed actions and attempts by action id (version 5 by their run and the order they were
// written in, so that rows are appended).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { loadActionIo, loadActionValues } from "../../../src/record/action-io.js";
import { markCancelled } from "../../../src/record/run-admin.js";
import { loadRun } from "../../../src/record/run-history.js";
import { runSchema } from "../../../src/record/run-schema.js";
import { outputSeal } from "../../../src/record/run-seals.js";
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

const v4 = `
  CREATE TABLE runs (
    name TEXT PRIMARY KEY, task TEXT NOT NULL, status TEXT NOT NULL,
    started_at INTEGER NOT NULL, ended_at INTEGER, error TEXT,
    inputs_hash TEXT, version TEXT, module TEXT, args BLOB, seal TEXT
  ) WITHOUT ROWID;
  CREATE TABLE actions (
    run TEXT NOT NULL, id TEXT NOT NULL, parent TEXT, task TEXT NOT NULL, grp TEXT,
    status TEXT NOT NULL, cache_hit INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL,
    ended_at INTEGER, error TEXT, output BLOB, seal TEXT, queued TEXT, finished TEXT,
    PRIMARY KEY (run, id)
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
  PRAGMA user_version = 4;
`;

describe("runs.db schema migrations", () => {
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
    expect(db.pragma("user_version", { simple: true })).toBe(runSchema.version);
    expect(loadActionIo(db, "old").get("a1")).toEqual({
      label: "train(lr=0.5)",
      inputs: [{ name: "lr", preview: "0.5" }],
      output: "7",
    });
    expect(loadActionValues(db, "old", "a1").inputs).toEqual([0.5]);
    store.close();
  });

  it("migrates a version 4 file: its runs read, resume and go on as before", () => {
    const home = mkdtempSync(join(tmpdir(), "flyte-ts-schema-"));
    const old = new Database(join(home, "runs.db"));
    old.exec(v4);
    old
      .prepare("INSERT INTO runs (name, task, status, started_at) VALUES (?, ?, ?, ?)")
      .run("old", "m.main", "failed", 1);
    const action = old.prepare(
      "INSERT INTO actions (run, id, parent, task, status, queued_at, ended_at, output, seal, queued, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const output = serialize(7);
    const queued = (x: number) =>
      JSON.stringify({ label: `f(x=${x})`, inputs: [{ name: "x", preview: `${x}` }], exact: true });
    action.run("old", "a0", null, "m.main", "failed", 1, 9, null, null, null, null);
    action.run(
      "old",
      "zz",
      "a0",
      "m.f",
      "succeeded",
      2,
      3,
      output,
      outputSeal("old", "zz", output),
      queued(1),
      '{"status":"succeeded","output":"7"}',
    );
    action.run("old", "bb", "a0", "m.f", "failed", 4, 5, null, null, queued(2), null);
    const attempt = old.prepare("INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?)");
    attempt.run("old", "a0", 0, 1, 9, null, null);
    attempt.run("old", "zz", 0, 2, 3, null, '{"lane":"m/thread-1"}');
    attempt.run("old", "bb", 0, 4, 5, '{"message":"boom"}', null);
    attempt.run("old", "bb", 1, 6, 7, '{"message":"boom"}', null);
    old.close();

    const store = new RunStore(home);
    const db = store.database;
    if (db === undefined) throw new Error("runs.db did not open");
    expect(db.pragma("user_version", { simple: true })).toBe(runSchema.version);
    const run = loadRun(db, "old");
    expect(run?.actions.map((a) => [a.id, a.status, a.attempts.length])).toEqual([
      ["a0", "failed", 1],
      ["zz", "succeeded", 1],
      ["bb", "failed", 2],
    ]);
    expect(run?.actions[1]).toMatchObject({ label: "f(x=1)", output: "7" });
    expect(run?.actions[1]?.attempts[0]).toMatchObject({ lane: "m/thread-1", endedAt: 3 });
    expect(loadActionValues(db, "old", "zz")).toMatchObject({ inputs: [1], output: { value: 7 } });
    expect(store.replay("old").output("zz")).toEqual({ value: 7 });

    // The resumed run queues its actions again: their rows are replaced, new ones appended.
    const observe = store.observer("old");
    observe({ type: "run-started", run: "old", task: "m.main", at: 10 });
    for (const [id, at] of [
      ["a0", 10],
      ["bb", 11],
      ["new", 12],
    ] as const) {
      observe({
        type: "action-queued",
        action: id,
        parent: id === "a0" ? undefined : "a0",
        task: "m.f",
        group: undefined,
        at,
      });
      observe({ type: "attempt-started", action: id, attempt: 0, at });
      observe({ type: "attempt-phase", action: id, attempt: 0, at, phase: "running" });
    }
    observe({ type: "attempt-finished", action: "bb", attempt: 0, at: 13 });
    observe({ type: "action-finished", action: "bb", status: "succeeded", at: 13, output: 8 });
    store.flush();
    markCancelled(db, "old", 14, "gone");
    const resumed = loadRun(db, "old");
    expect(resumed?.actions.map((a) => [a.id, a.status, a.attempts.length])).toEqual([
      ["zz", "succeeded", 1],
      ["a0", "cancelled", 1],
      ["bb", "succeeded", 2],
      ["new", "cancelled", 1],
    ]);
    expect(resumed?.actions[2]?.attempts.map((a) => [a.attempt, a.startedAt, a.endedAt])).toEqual([
      [0, 11, 13],
      [1, 6, 7],
    ]);
    store.close();
  });
});
