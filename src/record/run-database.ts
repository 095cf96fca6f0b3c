/**
 * Opening `runs.db`: its schema, and when its WAL is copied back into the file. SQLite's default
 * copies it (a checkpoint) whenever a commit leaves 1,000 pages in it, every few hundred calls
 * of a busy run, on whichever thread made that commit. Here the writer thread's commits let it
 * grow to {@link WAL_CHECKPOINT_PAGES} first, and the thread checkpoints when it has had nothing
 * to write for a moment and before it closes ({@link checkpointWal}): the WAL stays bounded, a
 * page that many commits of a burst wrote is copied once, and the copying happens beside the
 * controller, between bursts.
 * @module
 */
import { type Database, openDatabase } from "../cache/database.js";
import { runSchema } from "./run-schema.js";

/** WAL pages (4 KiB each) after which a commit of the writer thread checkpoints: 64 MiB. */
export const WAL_CHECKPOINT_PAGES = 16_384;
/**
 * What the WAL file is cut back to when the next write starts it over after a checkpoint, when
 * {@link checkpointWal} could not empty it itself. Bytes.
 */
const WAL_KEEP_BYTES = 4 * 2 ** 20;

/**
 * Opens (creating or migrating) `runs.db` at `file`, or returns `undefined` with one warning.
 * `"writer"`: the writer thread's connection. Any other checkpoints only past twice the writer's
 * bound, so that the controller's own small writes (a heartbeat, cache keys) never make its
 * thread copy the WAL while a writer thread runs; without one, it bounds the WAL itself.
 */
export function openRunDatabase(
  file: string,
  connection: "writer" | "other" = "other",
): Database | undefined {
  const db = openDatabase(file, runSchema, "The run store");
  const pages = connection === "writer" ? WAL_CHECKPOINT_PAGES : 2 * WAL_CHECKPOINT_PAGES;
  db?.pragma(`wal_autocheckpoint = ${pages}`);
  db?.pragma(`journal_size_limit = ${WAL_KEEP_BYTES}`);
  return db;
}

/**
 * Copies the WAL into the file without holding up other connections' writes, then empties it
 * if no other connection is using it at that moment (else the next write that starts it over
 * cuts it back). A reader still on an older snapshot keeps its pages in the WAL until the next
 * checkpoint.
 */
export function checkpointWal(db: Database): void {
  db.pragma("wal_checkpoint(PASSIVE)");
  // Emptying the file takes the write lock: with nothing left to copy, only for a moment, and
  // without waiting for it.
  const timeoutMs = db.pragma("busy_timeout", { simple: true }) as number;
  db.pragma("busy_timeout = 0");
  try {
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.pragma(`busy_timeout = ${timeoutMs}`);
  }
}
