/**
 * Opening the SQLite files under the `.flyte` folder: WAL, `synchronous=NORMAL`, a busy timeout,
 * and a schema version in `PRAGMA user_version`. better-sqlite3 is loaded on first use, so
 * importing flyte-ts opens nothing.
 * @module
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { warnOnce } from "../internal/warn.js";

/** A better-sqlite3 connection. */
export type Database = BetterSqlite3.Database;

/** How long a connection waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 30_000;

let driver: typeof BetterSqlite3 | undefined;

function loadDriver(): typeof BetterSqlite3 {
  driver ??= createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
  return driver;
}

/** What {@link openDatabase} needs to create or check a database. */
export interface Schema {
  /** The version this release writes; a file with a higher `user_version` is left alone. */
  readonly version: number;
  /** `CREATE TABLE IF NOT EXISTS …` statements, run once per open. */
  readonly ddl: string;
  /**
   * Brings a file of an older version (`from` ≥ 1) up to {@link version}, inside the transaction
   * that also sets the new `user_version` (so two processes opening it at once migrate it once).
   */
  readonly migrate?: (db: Database, from: number) => void;
}

/**
 * Opens (creating if needed) the database at `file`, or returns `undefined` with one warning
 * when the file was written by a newer flyte-ts or cannot be opened: the caller then runs
 * without it rather than crashing or misreading.
 */
export function openDatabase(file: string, schema: Schema, what: string): Database | undefined {
  let db: Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = openConnection(file, false);
    db.pragma("journal_mode = WAL");
    const found = db.pragma("user_version", { simple: true }) as number;
    if (found > schema.version) {
      warnOnce(
        `${what} ${file} has schema version ${found}, newer than this flyte-ts understands (${schema.version}); ` +
          "it is not used by this run. Upgrade flyte-ts, or point FLYTE_TS_HOME at another folder.",
      );
      db.close();
      return undefined;
    }
    if (found < schema.version) upgrade(db, schema);
    else db.exec(schema.ddl);
    return db;
  } catch (error) {
    db?.close();
    warnOnce(
      `${what} ${file} could not be opened (${error instanceof Error ? error.message : String(error)}); ` +
        "this run goes on without it. Delete the file if it is damaged.",
    );
    return undefined;
  }
}

/**
 * A connection to the database at `file`, with the busy timeout and `synchronous=NORMAL` every
 * connection here uses; throws what SQLite throws. Alone (no schema check), it serves a second
 * connection to a file {@link openDatabase} opened, such as a writer thread's.
 * @param mustExist - fail instead of creating a missing file.
 */
export function openConnection(file: string, mustExist = true): Database {
  const db = new (loadDriver())(file, { timeout: BUSY_TIMEOUT_MS, fileMustExist: mustExist });
  try {
    db.pragma("synchronous = NORMAL");
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Creates or migrates the tables, once, under the write lock. */
function upgrade(db: Database, schema: Schema): void {
  db.transaction(() => {
    const found = db.pragma("user_version", { simple: true }) as number;
    if (found >= schema.version) return;
    if (found >= 1 && schema.migrate !== undefined) schema.migrate(db, found);
    db.exec(schema.ddl);
    db.pragma(`user_version = ${schema.version}`);
  }).immediate();
}
