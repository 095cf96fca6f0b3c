/**
 * The run store's writer thread (run-store-writer.ts): commits each posted batch of rows in one
 * transaction and stores the batch's number in the shared state, waking a waiting `settle`.
 * Once no batch came for {@link CHECKPOINT_IDLE_MS}, and before it closes, it copies the WAL
 * back into the file (run-database.ts).
 * @module
 */
import { type MessagePort, workerData } from "node:worker_threads";
import { checkpointWal, openRunDatabase } from "./run-database.js";
import {
  closeMessage,
  type PostedBatch,
  type PreparedStatements,
  type WriterFailure,
  WriterState,
  writeRows,
} from "./run-store-writer.js";

/** How long the thread goes without a batch before it checkpoints. Milliseconds. */
const CHECKPOINT_IDLE_MS = 200;

const { file, state, port } = workerData as {
  file: string;
  state: Int32Array;
  port: MessagePort;
};

const db = openRunDatabase(file, "writer");
const prepared: PreparedStatements = new Map();

function done(seq: number): void {
  Atomics.store(state, WriterState.done, seq);
  Atomics.notify(state, WriterState.done);
}

if (db === undefined) {
  Atomics.store(state, WriterState.broken, 1);
  Atomics.notify(state, WriterState.done);
  port.close();
} else {
  const checkpoint = () => {
    try {
      checkpointWal(db);
    } catch {
      // What stays in the WAL is committed; the next checkpoint copies it.
    }
  };
  let idle: NodeJS.Timeout | undefined;
  port.on("message", (batch: PostedBatch | typeof closeMessage) => {
    if (batch === closeMessage) {
      clearTimeout(idle);
      checkpoint();
      db.close();
      Atomics.store(state, WriterState.closed, 1);
      Atomics.notify(state, WriterState.closed);
      port.close();
      return;
    }
    try {
      writeRows(db, batch, prepared);
    } catch (error) {
      const failure: WriterFailure = {
        seq: batch.seq,
        message: error instanceof Error ? error.message : String(error),
        code: (error as { code?: unknown }).code as string | undefined,
      };
      port.postMessage(failure);
    }
    done(batch.seq);
    if (idle === undefined) idle = setTimeout(checkpoint, CHECKPOINT_IDLE_MS);
    else idle.refresh();
  });
}
