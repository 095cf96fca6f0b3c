/**
 * The cache writer thread (cache-writer.ts): writes each posted batch of packed rows in one
 * transaction, opened at its first chunk and committed after its last, then reports the batch.
 * A batch that fails (a full disk) is rolled back and reported with the reason; the thread goes
 * on with the next. A file it cannot open stops the thread: the store then writes on its own.
 *
 * The thread copies the WAL back into the file (a checkpoint) itself, right after reporting a
 * batch, instead of inside the batch's commit (SQLite's automatic checkpoint): a third of a
 * large batch's time that its `set` calls need not wait for. The WAL stays as bounded as
 * before: every batch is followed by a checkpoint.
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { prepareRowStatements, writeRows } from "./cache-rows.js";
import type { BatchOutcome, PostedChunk } from "./cache-writer.js";
import { closeMessage } from "./cache-writer.js";
import { openConnection } from "./database.js";

const port = parentPort;
if (port === null) throw new Error("flyte-ts: cache-writer-thread runs as a worker thread.");
const { file } = workerData as { file: string };
const db = openConnection(file);
db.pragma("wal_autocheckpoint = 0");
const statements = prepareRowStatements(db);

/** Why the batch being written failed, once it did: its later chunks are skipped. */
let failure: BatchOutcome["failure"];

port.on("message", (message: PostedChunk | typeof closeMessage) => {
  if (message === closeMessage) {
    db.close();
    port.close();
    return;
  }
  try {
    if (failure === undefined) {
      if (!db.inTransaction) db.exec("BEGIN IMMEDIATE");
      writeRows(statements, message.rows, message.nowMs);
      if (message.last) db.exec("COMMIT");
    }
  } catch (error) {
    failure = {
      message: error instanceof Error ? error.message : String(error),
      code: (error as { code?: unknown }).code as string | undefined,
    };
    try {
      if (db.inTransaction) db.exec("ROLLBACK");
    } catch {
      // SQLite rolled it back already.
    }
  }
  if (message.last) {
    const outcome: BatchOutcome =
      failure === undefined ? { batch: message.batch } : { batch: message.batch, failure };
    failure = undefined;
    port.postMessage(outcome);
    try {
      db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // What stays in the WAL is committed; the next checkpoint copies it.
    }
  }
});
