/**
 * The tables of `runs.db`: runs, actions, attempts, traced calls and the event log. Its own
 * module so that the run store's writer thread opens the file without loading the observer.
 * @module
 */
import type { Schema } from "../cache/database.js";

/**
 * The `actions` table: one row per action of a run, keyed by the run and `seq`, the order in
 * which the run store first wrote the action (1, 2, …). Rows are appended at the end of their
 * run's range: a call's insert touches the same few pages as the previous call's, where a key by
 * action id (a hash, random) put every row on a page of its own. The run store keeps each
 * action's `seq`; readers find an action by id within its run's rows.
 */
function actionsTable(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
      run TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, parent TEXT, task TEXT NOT NULL,
      grp TEXT, status TEXT NOT NULL, cache_hit INTEGER NOT NULL DEFAULT 0,
      queued_at INTEGER NOT NULL, ended_at INTEGER, error TEXT, output BLOB, seal TEXT,
      queued TEXT, finished TEXT, PRIMARY KEY (run, seq)
    ) WITHOUT ROWID;`;
}

/** The `attempts` table: one row per attempt of an action, appended like `actions`' rows. */
function attemptsTable(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
      run TEXT NOT NULL, seq INTEGER NOT NULL, action TEXT NOT NULL, attempt INTEGER NOT NULL,
      started_at INTEGER NOT NULL, ended_at INTEGER, error TEXT, phases TEXT,
      PRIMARY KEY (run, seq)
    ) WITHOUT ROWID;`;
}

/** The schema of `runs.db`; bump `version` on any incompatible change. */
export const runSchema: Schema = {
  version: 5,
  ddl: `
    CREATE TABLE IF NOT EXISTS runs (
      name TEXT PRIMARY KEY, task TEXT NOT NULL, status TEXT NOT NULL,
      started_at INTEGER NOT NULL, ended_at INTEGER, error TEXT,
      inputs_hash TEXT, version TEXT, module TEXT, args BLOB, seal TEXT
    ) WITHOUT ROWID;
    ${actionsTable("actions")}
    ${attemptsTable("attempts")}
    CREATE TABLE IF NOT EXISTS traces (
      run TEXT NOT NULL, action TEXT NOT NULL, trace TEXT NOT NULL, ok INTEGER NOT NULL,
      value BLOB, error TEXT, seal TEXT, PRIMARY KEY (run, action, trace)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS events (
      run TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, action TEXT,
      at INTEGER NOT NULL, data TEXT, PRIMARY KEY (run, seq)
    ) WITHOUT ROWID;
  `,
  // Version 1 rows have no seal: they are never replayed (their actions run again).
  migrate(db, from) {
    if (from < 2) {
      db.exec(`
        ALTER TABLE runs ADD COLUMN inputs_hash TEXT; ALTER TABLE runs ADD COLUMN version TEXT;
        ALTER TABLE runs ADD COLUMN module TEXT; ALTER TABLE runs ADD COLUMN args BLOB;
        ALTER TABLE runs ADD COLUMN seal TEXT; ALTER TABLE actions ADD COLUMN seal TEXT;
        ALTER TABLE traces ADD COLUMN seal TEXT;`);
    }
    // Version 3: each attempt's phases (admitted, placed, running; lane, devices, backoff).
    if (from < 3) db.exec("ALTER TABLE attempts ADD COLUMN phases TEXT");
    // Version 4: an action's label, inputs and output preview in its own row (they were the data
    // of its queued and finished event rows, which older runs keep).
    if (from < 4) {
      db.exec(
        "ALTER TABLE actions ADD COLUMN queued TEXT; ALTER TABLE actions ADD COLUMN finished TEXT",
      );
    }
    // Version 5: actions and attempts keyed by their run and the order they were written in,
    // numbered here by when they were queued (started), as readers list them.
    if (from < 5) {
      db.exec(`
        ${actionsTable("actions_v5")}
        INSERT INTO actions_v5 (run, seq, id, parent, task, grp, status, cache_hit, queued_at,
            ended_at, error, output, seal, queued, finished)
          SELECT run, row_number() OVER (PARTITION BY run ORDER BY queued_at, id), id, parent,
            task, grp, status, cache_hit, queued_at, ended_at, error, output, seal, queued, finished
          FROM actions;
        DROP TABLE actions;
        ALTER TABLE actions_v5 RENAME TO actions;
        ${attemptsTable("attempts_v5")}
        INSERT INTO attempts_v5 (run, seq, action, attempt, started_at, ended_at, error, phases)
          SELECT run, row_number() OVER (PARTITION BY run ORDER BY started_at, action, attempt),
            action, attempt, started_at, ended_at, error, phases
          FROM attempts;
        DROP TABLE attempts;
        ALTER TABLE attempts_v5 RENAME TO attempts;`);
    }
  },
};
