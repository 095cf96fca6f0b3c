/**
 * The run store: `<home>/runs.db`, an observer of the RunEvent stream that keeps runs, actions,
 * attempts, traces and events in SQLite. Rows are queued and written in one transaction every
 * few milliseconds (a 100k fan-out costs a few hundred commits, not 100k). Succeeded actions keep
 * their outputs and traced calls their results, so a killed or failed run can be resumed:
 * `withRunContext({ resume: "<run>" })` replays what already finished.
 *
 * Every stored value is verified when read: the run row, each output and each traced result
 * carry a seal (a hash over their keys and bytes), so a damaged row is never replayed — the
 * action runs again, with one warning naming the file. Values that hold a known secret are not
 * kept (they would be wrong once masked); errors are kept with secrets masked.
 * @module
 */
import { join } from "node:path";
import { deserialize } from "node:v8";
import type { Database } from "../cache/database.js";
import { decodeValue } from "../cache/value-codec.js";
import { outsideFrame, type TraceRecord } from "../context/context.js";
import type { ErrorData } from "../errors.js";
import { notRecorded } from "../internal/not-recorded.js";
import { warnOnce } from "../internal/warn.js";
import type { RunObserver } from "./events.js";
import { openRunDatabase } from "./run-database.js";
import { RowQueue } from "./run-row-queue.js";
import { runRows } from "./run-rows.js";
import { callSeal, outputSeal, traceSeal } from "./run-seals.js";
import {
  EVENT_COLUMNS,
  type PreparedStatements,
  RunStoreWriter,
  type WriterFailure,
  writeRows,
} from "./run-store-writer.js";

/** The root call of a run, as stored for a resume to check (and to repeat). */
export interface StoredCall {
  /** The root task's name, e.g. `"demo.main"`. */
  readonly task: string;
  /** The canonical hash of its inputs (the hash action ids are made from). */
  readonly inputsHash: string;
  /** The run's code version (`withRunContext({ version })`), if one was given. */
  readonly version: string | undefined;
  /** The module URL of the root task, if it has one. */
  readonly module: string | undefined;
  /**
   * The inputs themselves, when they could be stored: not when they cannot be encoded, nor when
   * they hold a known secret value.
   */
  readonly args: readonly unknown[] | undefined;
}

/** What {@link RunStore.storedCall} found. */
export type StoredCallLookup =
  | { readonly found: "none" }
  | { readonly found: "damaged"; readonly file: string }
  | { readonly found: "older"; readonly file: string }
  | { readonly found: "call"; readonly call: StoredCall };

/** What a resumed run replays: the outputs of finished actions and their traced calls. */
export interface Replay {
  /** The stored output of action `id`, if it succeeded in the resumed run. */
  output(id: string): { readonly value: unknown } | undefined;
  /** The traced calls action `id` recorded in the resumed run. */
  traces(id: string): ReadonlyMap<string, TraceRecord> | undefined;
}

/** How long events wait before they are written. Milliseconds. */
const FLUSH_DELAY_MS = 20;
/** Rows written on the calling thread before the writer thread starts. */
const WRITER_AFTER_ROWS = 500;
/** How long the writer thread stays without work before it stops. Milliseconds. */
const WRITER_IDLE_MS = 5_000;
/**
 * Queued rows that are written at once, without waiting for the timer: calls that never yield to
 * the event loop (inline tasks awaited one after another) would otherwise queue a whole run's
 * rows for its end, where the run then waits for all of them to be written.
 */
const FLUSH_ROWS = 2_000;

/**
 * The runs of one `.flyte` folder.
 *
 * @example
 * ```ts
 * const store = new RunStore(".flyte");
 * const observe = store.observer("my-run");  // pass events to it
 * await store.flush();
 * ```
 */
export class RunStore {
  readonly #file: string;
  #db: Database | undefined | null = null;
  /** The rows queued for the next write, by every run this store observes. */
  readonly #queue = new RowQueue((rows) => this.#scheduleFlush(rows));
  /** The thread that writes the rows; `null` before the first write, `undefined` without one. */
  #writer: RunStoreWriter | undefined | null = null;
  /** Statements prepared for writes on this thread, when there is no writer thread. */
  readonly #prepared: PreparedStatements = new Map();
  #timer: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  /** Rows handed over so far: the writer thread starts once there are many. */
  #rowsPosted = 0;

  /** @param home - the `.flyte` folder. */
  constructor(home: string) {
    this.#file = join(home, "runs.db");
  }

  /** The open database, or `undefined` when it cannot be used (warned once). */
  get database(): Database | undefined {
    if (this.#db === null) this.#db = openRunDatabase(this.#file);
    return this.#db;
  }

  /** The file, `<home>/runs.db`. */
  get file(): string {
    return this.#file;
  }

  /**
   * The stored root call of run `run`, checked against its seal: `"damaged"` when the row does
   * not match it, `"older"` when an older flyte-ts recorded the run without its call.
   */
  storedCall(run: string): StoredCallLookup {
    let row:
      | {
          name: string;
          task: string;
          inputs_hash: string | null;
          version: string | null;
          module: string | null;
          args: Buffer | null;
          seal: string | null;
        }
      | undefined;
    try {
      row = this.database
        ?.prepare<[string], NonNullable<typeof row>>(
          "SELECT name, task, inputs_hash, version, module, args, seal FROM runs WHERE name = ?",
        )
        .get(run);
    } catch (error) {
      warnOnce(`The run store ${this.#file} could not be read (${String(error)}).`);
      return { found: "damaged", file: this.#file };
    }
    if (row === undefined) return { found: "none" };
    if (row.seal === null && row.inputs_hash === null) return { found: "older", file: this.#file };
    const call: StoredCall = {
      task: row.task,
      inputsHash: row.inputs_hash ?? "",
      version: row.version ?? undefined,
      module: row.module ?? undefined,
      args: undefined,
    };
    if (row.name !== run || row.seal !== callSeal(run, call, row.args)) {
      return { found: "damaged", file: this.#file };
    }
    let args: readonly unknown[] | undefined;
    try {
      args = row.args === null ? undefined : (deserialize(row.args) as unknown[]);
    } catch {
      args = undefined;
    }
    return { found: "call", call: { ...call, args: Array.isArray(args) ? args : undefined } };
  }

  /** Whether a run of this name is stored. */
  has(run: string): boolean {
    try {
      return this.database?.prepare("SELECT 1 FROM runs WHERE name = ?").get(run) !== undefined;
    } catch (error) {
      warnOnce(`The run store could not be read (${String(error)}).`);
      return false;
    }
  }

  /** Loads what run `run` finished, for a resume (nothing, with a warning, if it cannot be read). */
  replay(run: string): Replay {
    try {
      return this.#replay(run);
    } catch (error) {
      warnOnce(`The run store could not be read (${String(error)}); the resumed run starts over.`);
      return { output: () => undefined, traces: () => undefined };
    }
  }

  #replay(run: string): Replay {
    const db = this.database;
    const outputs = new Map<string, Buffer>();
    const traces = new Map<string, Map<string, TraceRecord>>();
    let damaged = 0;
    if (db !== undefined) {
      const rows = db
        .prepare<[string], { run: string; id: string; output: Buffer; seal: string | null }>(
          "SELECT run, id, output, seal FROM actions WHERE run = ? AND status = 'succeeded' AND output IS NOT NULL",
        )
        .all(run);
      for (const row of rows) {
        if (row.seal === null) continue;
        if (
          row.run !== run ||
          !Buffer.isBuffer(row.output) ||
          row.seal !== outputSeal(run, row.id, row.output)
        ) {
          damaged++;
          continue;
        }
        outputs.set(row.id, row.output);
      }
      const traceRows = db
        .prepare<
          [string],
          {
            run: string;
            action: string;
            trace: string;
            ok: number;
            value: Buffer | null;
            error: string | null;
            seal: string | null;
          }
        >("SELECT run, action, trace, ok, value, error, seal FROM traces WHERE run = ?")
        .all(run);
      for (const row of traceRows) {
        if (row.seal === null) continue;
        if (
          row.run !== run ||
          row.seal !== traceSeal(run, row.action, row.trace, row.ok, row.value, row.error)
        ) {
          damaged++;
          continue;
        }
        try {
          const record: TraceRecord =
            row.ok === 1
              ? (decodeValue(row.value as Buffer) as TraceRecord)
              : { ok: false, error: JSON.parse(row.error ?? "{}") as ErrorData };
          const map = traces.get(row.action) ?? new Map<string, TraceRecord>();
          traces.set(row.action, map.set(row.trace, record));
        } catch {
          // An unreadable trace is run again.
        }
      }
    }
    if (damaged > 0) {
      warnOnce(
        `The run store ${this.#file} holds ${damaged} damaged value${damaged === 1 ? "" : "s"} of run "${run}"; ` +
          "they are not replayed: those actions and traced calls run again.",
      );
    }
    return {
      output(id) {
        const bytes = outputs.get(id);
        if (bytes === undefined) return undefined;
        try {
          return { value: decodeValue(bytes) };
        } catch {
          return undefined;
        }
      },
      traces: (id) => traces.get(id),
    };
  }

  /**
   * An observer that records the events of run `run` (one that records nothing if the store is
   * unusable). `call` is the root call, kept so that a resume can check it (and repeat it).
   */
  observer(run: string, call?: StoredCall): RunObserver {
    try {
      return this.#observer(run, call);
    } catch (error) {
      notRecorded.note(`the run record (${this.#file})`, error);
      return () => {};
    }
  }

  #observer(run: string, call: StoredCall | undefined): RunObserver {
    const db = this.database;
    if (db === undefined) return () => {};
    return runRows(run, call, db, this.#queue);
  }

  /** Writes every queued row now: when this returns, they are committed (or noted as lost). */
  flush(): void {
    this.#post();
    const writer = this.#writer;
    if (writer && !writer.settle()) {
      notRecorded.note(
        `the run record (${this.#file})`,
        new Error("its writer thread stopped or did not answer within a minute"),
      );
    }
  }

  /** Hands the queued rows to the writer thread (or writes them here without one). */
  #post(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue.take();
    if (batch === undefined) return;
    const db = this.database;
    if (db === undefined) return;
    // A few rows cost less to write here than a thread costs to start (a one-task program).
    this.#rowsPosted += batch.rows.length / 2 + batch.events.length / EVENT_COLUMNS;
    const writer = this.#rowsPosted > WRITER_AFTER_ROWS ? this.#startWriter() : undefined;
    if (writer?.usable) {
      writer.post(batch);
      this.#stopWhenIdle();
      return;
    }
    try {
      writeRows(db, batch, this.#prepared);
    } catch (error) {
      notRecorded.note(`the run record (${this.#file})`, error);
    }
  }

  #startWriter(): RunStoreWriter | undefined {
    if (this.#writer !== null) return this.#writer;
    try {
      // Outside the frame of the call that flushed: the thread outlives its run.
      const failed = (failure: WriterFailure) =>
        notRecorded.note(
          `the run record (${this.#file})`,
          Object.assign(new Error(failure.message), { code: failure.code }),
        );
      this.#writer = outsideFrame(() => new RunStoreWriter(this.#file, failed));
    } catch {
      // No thread (a restricted environment): the rows are written on this one.
      this.#writer = undefined;
    }
    return this.#writer;
  }

  /** Stops the writer thread once nothing was posted for a while; the next write starts one. */
  #stopWhenIdle(): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      this.#writer?.close();
      this.#writer = null;
    }, WRITER_IDLE_MS);
    this.#idle.unref();
  }

  /** Writes what is queued, stops the writer thread and closes the database. */
  close(): void {
    this.flush();
    clearTimeout(this.#idle);
    this.#writer?.close();
    this.#writer = null;
    this.#prepared.clear();
    this.#db?.close();
    this.#db = null;
  }

  #scheduleFlush(rows: number): void {
    if (rows >= FLUSH_ROWS) this.#post();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#post(), FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }
}
