/**
 * The run store's writer thread (run-store-writer.ts): commits each posted batch of rows in one
 * transaction and stores the batch's number in the shared state, waking a waiting `settle`.
 * @module
 */
import { type MessagePort, workerData } from "node:worker_threads";
import { openDatabase } from "../cache/database.js";
import { runSchema } from "./run-schema.js";
import {
  closeMessage,
  type PostedBatch,
  type PreparedStatements,
  type WriterFailure,
  WriterState,
  writeRows,
} from "./run-store-writer.js";

const { file, state, port } = workerData as {
  file: string;
  state: Int32Array;
  port: MessagePort;
};

const db = openDatabase(file, runSchema, "The run store");
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
  port.on("message", (batch: PostedBatch | typeof closeMessage) => {
    if (batch === closeMessage) {
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
  });
}
