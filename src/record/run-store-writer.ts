/**
 * The run store's writer: a thread that writes the rows the run store queues into `runs.db`, so
 * that SQLite's inserts, commits and WAL checkpoints (15–30 µs of every task call,
 * bench/run-store-write.ts) run beside the controller instead of on its thread. The controller builds the rows and posts them in
 * batches every few milliseconds; {@link RunStoreWriter.settle} blocks until every posted batch
 * is committed (the end of a run, `close`, a read), so what the run store promised is on disk
 * when it returns, as before. When the thread cannot start, the rows are written on the calling
 * thread instead: the same {@link writeRows} serves both.
 * @module
 */

import { serialize } from "node:v8";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import type { Statement } from "better-sqlite3";
import type { Database } from "../cache/database.js";
import { outputSeal } from "./run-seals.js";

/** Event rows written by one statement (six parameters each, well under SQLite's limit). */
const EVENTS_PER_STATEMENT = 64;
/** Values in one queued event row: run, seq, type, action, at, data. */
export const EVENT_COLUMNS = 6;
const eventsInsert = "INSERT OR REPLACE INTO events (run, seq, type, action, at, data) VALUES ";
const eventValues = "(?, ?, ?, ?, ?, ?)";

/**
 * The statements the run store writes, by number: a queued row names its statement by its
 * number ({@link statementSql} has the SQL), so a batch carries a small integer per row, not the
 * statement's text.
 */
export const RunStatement = {
  run: 0,
  runArgs: 1,
  runEnd: 2,
  action: 3,
  attempt: 4,
  trace: 5,
} as const;

/** The SQL of each {@link RunStatement}, by its number. */
export const statementSql: readonly string[] = [
  "INSERT INTO runs (name, task, status, started_at, inputs_hash, version, module, args, seal) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?) " +
    "ON CONFLICT (name) DO UPDATE SET task = excluded.task, status = 'running', started_at = excluded.started_at, ended_at = NULL, error = NULL, " +
    "inputs_hash = excluded.inputs_hash, version = excluded.version, module = excluded.module, args = excluded.args, seal = excluded.seal",
  "UPDATE runs SET args = NULL, seal = ? WHERE name = ?",
  "UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE name = ?",
  "INSERT OR REPLACE INTO actions (run, seq, id, parent, task, grp, status, cache_hit, queued_at, ended_at, error, output, seal, queued, finished) " +
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  "INSERT OR REPLACE INTO attempts (run, seq, action, attempt, started_at, ended_at, error, phases) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  "INSERT OR REPLACE INTO traces (run, action, trace, ok, value, error, seal) VALUES (?, ?, ?, ?, ?, ?, ?)",
];

/**
 * Rows to write in one transaction: `rows` alternates a {@link RunStatement} (or a statement's
 * SQL) and its parameters; `events` holds event rows flat, {@link EVENT_COLUMNS} values each.
 */
export interface RowBatch {
  readonly rows: readonly unknown[];
  readonly events: readonly unknown[];
}

/**
 * An action's output (a primitive) in place of its stored bytes: whoever writes the row makes
 * the bytes (`v8.serialize`) and the output's seal, which goes in the parameter after it.
 */
export interface DeferredOutput {
  readonly deferredOutput: unknown;
  readonly run: string;
  readonly action: string;
}

function isDeferred(param: unknown): param is DeferredOutput {
  return typeof param === "object" && param !== null && "deferredOutput" in param;
}

/** Replaces the deferred outputs in `params` with their bytes, and fills in their seals. */
export function withOutputs(params: unknown[]): unknown[] {
  for (let i = 0; i < params.length; i++) {
    const param = params[i];
    if (!isDeferred(param)) continue;
    const bytes = serialize(param.deferredOutput);
    params[i] = bytes;
    params[i + 1] = outputSeal(param.run, param.action, bytes);
  }
  return params;
}

/** Prepared statements of one connection, by SQL text. */
export type PreparedStatements = Map<string, Statement>;

/** Writes `batch` into `db` in one immediate transaction; throws what SQLite throws. */
export function writeRows(db: Database, batch: RowBatch, prepared: PreparedStatements): void {
  const statement = (sql: string): Statement => {
    let s = prepared.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      prepared.set(sql, s);
    }
    return s;
  };
  const { rows, events } = batch;
  db.transaction(() => {
    for (let k = 0; k < rows.length; k += 2) {
      const sql = rows[k];
      statement(typeof sql === "number" ? (statementSql[sql] as string) : (sql as string)).run(
        ...withOutputs(rows[k + 1] as unknown[]),
      );
    }
    const chunk = EVENTS_PER_STATEMENT * EVENT_COLUMNS;
    let k = 0;
    if (events.length >= chunk) {
      const many = statement(
        eventsInsert + Array.from({ length: EVENTS_PER_STATEMENT }, () => eventValues).join(", "),
      );
      for (; k + chunk <= events.length; k += chunk) many.run(events.slice(k, k + chunk));
    }
    const one = statement(eventsInsert + eventValues);
    for (; k < events.length; k += EVENT_COLUMNS) one.run(events.slice(k, k + EVENT_COLUMNS));
  }).immediate();
}

/** A batch as posted to the thread. */
export interface PostedBatch extends RowBatch {
  /** Its number: the thread stores it in the shared state once the batch is committed. */
  readonly seq: number;
}

/** What the thread reports back: a write that failed, as data. */
export interface WriterFailure {
  readonly seq: number;
  readonly message: string;
  readonly code: string | undefined;
}

/** Slots of the shared state. */
export const WriterState = {
  /** The number of the last batch committed (or given up on). */
  done: 0,
  /** 1 once the thread cannot write at all (the file would not open). */
  broken: 1,
  /** 1 once the thread closed its connection (after a `close` message). */
  closed: 2,
} as const;

/** The message that has the thread close its connection (checkpointing the WAL) and stop. */
export const closeMessage = "close";

/** The thread's program: dist's, also when the engine runs from `src/` (tests). */
const threadUrl: URL = import.meta.url.endsWith(".ts")
  ? new URL("../../dist/record/run-store-writer-thread.js", import.meta.url)
  : new URL("./run-store-writer-thread.js", import.meta.url);

/** How long {@link RunStoreWriter.settle} waits for the thread before giving up. Milliseconds. */
const SETTLE_TIMEOUT_MS = 60_000;

/**
 * The thread that writes one `runs.db`. It never keeps the process alive: what it has not
 * committed when the process ends is what a crash at that moment would lose; every run settles
 * it before it returns.
 */
export class RunStoreWriter {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #state = new Int32Array(new SharedArrayBuffer(12));
  readonly #failed: (failure: WriterFailure) => void;
  #posted = 0;
  #exited = false;

  /**
   * Starts the thread for `file` (already created, with its schema). `failed` hears of every
   * batch that could not be written.
   */
  constructor(file: string, failed: (failure: WriterFailure) => void) {
    this.#failed = failed;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(threadUrl, {
      workerData: { file, state: this.#state, port: port2 },
      transferList: [port2],
    });
    this.#worker.unref();
    this.#worker.on("error", () => {});
    this.#worker.on("exit", () => {
      this.#exited = true;
    });
    port1.on("message", (failure: WriterFailure) => this.#failed(failure));
    port1.unref();
  }

  /** Whether batches can still be posted (the thread runs and could open the file). */
  get usable(): boolean {
    return !this.#exited && Atomics.load(this.#state, WriterState.broken) === 0;
  }

  /** Hands `batch` to the thread; it is written in the background. */
  post(batch: RowBatch): void {
    const posted: PostedBatch = { seq: ++this.#posted, rows: batch.rows, events: batch.events };
    this.#port.postMessage(posted);
  }

  /**
   * Blocks until every posted batch is committed, then reports the failures it heard of.
   * Returns false when the thread stopped or did not answer in time (those rows are lost).
   */
  settle(): boolean {
    const settled = this.#waitUntil(
      WriterState.done,
      (done) => done >= this.#posted || Atomics.load(this.#state, WriterState.broken) !== 0,
    );
    for (
      let m = receiveMessageOnPort(this.#port);
      m !== undefined;
      m = receiveMessageOnPort(this.#port)
    ) {
      this.#failed(m.message as WriterFailure);
    }
    return settled && Atomics.load(this.#state, WriterState.done) >= this.#posted;
  }

  /**
   * Settles, then has the thread close its connection (so the last one to close checkpoints the
   * WAL into the file) and stops it.
   */
  close(): boolean {
    const settled = this.settle();
    if (this.usable) {
      this.#port.postMessage(closeMessage);
      this.#waitUntil(WriterState.closed, (closed) => closed !== 0);
    }
    this.#port.close();
    void this.#worker.terminate();
    return settled;
  }

  /**
   * Blocks until `reached` holds for the shared `slot`, the thread exits, or
   * {@link SETTLE_TIMEOUT_MS} passes; whether it was reached.
   */
  #waitUntil(slot: number, reached: (value: number) => boolean): boolean {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (let value = Atomics.load(this.#state, slot); !reached(value); ) {
      const left = deadline - Date.now();
      if (left <= 0 || this.#exited) return false;
      Atomics.wait(this.#state, slot, value, Math.min(left, 1_000));
      value = Atomics.load(this.#state, slot);
    }
    return true;
  }
}
