/**
 * The tables of `runs.db`: runs, actions, attempts, traced calls and the event log. Its own
 * module so that the run store's writer thread opens the file without loading the observer.
 * @module
 */
import type { Schema } from "../cache/database.js";

/** The schema of `runs.db`; bump `version` on any incompatible change. */
export const runSchema: Schema = {
  version: 4,
  ddl: `
    CREATE TABLE IF NOT EXISTS runs (
      name TEXT PRIMARY KEY, task TEXT NOT NULL, status TEXT NOT NULL,
      started_at INTEGER NOT NULL, ended_at INTEGER, error TEXT,
      inputs_hash TEXT, version TEXT, module TEXT, args BLOB, seal TEXT
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS actions (
      run TEXT NOT NULL, id TEXT NOT NULL, parent TEXT, task TEXT NOT NULL, grp TEXT,
      status TEXT NOT NULL, cache_hit INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL,
      ended_at INTEGER, error TEXT, output BLOB, seal TEXT, queued TEXT, finished TEXT,
      PRIMARY KEY (run, id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS attempts (
      run TEXT NOT NULL, action TEXT NOT NULL, attempt INTEGER NOT NULL,
      started_at INTEGER NOT NULL, ended_at INTEGER, error TEXT, phases TEXT,
      PRIMARY KEY (run, action, attempt)
    ) WITHOUT ROWID;
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
  },
};
