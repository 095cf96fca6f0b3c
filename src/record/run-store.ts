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
import { deserialize, serialize } from "node:v8";
import { type Database, openDatabase } from "../cache/database.js";
import { decodeValue, sha256 } from "../cache/value-codec.js";
import type { TraceRecord } from "../context/context.js";
import type { ErrorData } from "../errors.js";
import { notRecorded } from "../internal/not-recorded.js";
import { knownSecrets } from "../internal/secret-mask.js";
import { warnOnce } from "../internal/warn.js";
import { finishedData, queuedData } from "./action-io.js";
import type { ActionStatus, RunEvent, RunObserver } from "./events.js";
import { type AttemptRecord, applyPhase } from "./run-record.js";
import { runSchema } from "./run-schema.js";
import {
  EVENT_COLUMNS,
  type PreparedStatements,
  RunStoreWriter,
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
/** Queue length that forces a write at once. */
const FLUSH_ROWS = 20_000;

/** Statements (their SQL) and their arguments, alternating: `[sql, args, sql, args, …]`. */
type Queue = (string | unknown[])[];

/** The statements the run store queues, as SQL (prepared by the connection that writes them). */
const sql = {
  run:
    "INSERT INTO runs (name, task, status, started_at, inputs_hash, version, module, args, seal) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?) " +
    "ON CONFLICT (name) DO UPDATE SET task = excluded.task, status = 'running', started_at = excluded.started_at, ended_at = NULL, error = NULL, " +
    "inputs_hash = excluded.inputs_hash, version = excluded.version, module = excluded.module, args = excluded.args, seal = excluded.seal",
  runArgs: "UPDATE runs SET args = NULL, seal = ? WHERE name = ?",
  runEnd: "UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE name = ?",
  action:
    "INSERT OR REPLACE INTO actions (run, id, parent, task, grp, status, cache_hit, queued_at, ended_at, error, output, seal, queued, finished) " +
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  hit: "UPDATE actions SET cache_hit = ? WHERE run = ? AND id = ?",
  attempt:
    "INSERT OR REPLACE INTO attempts (run, action, attempt, started_at, ended_at, error, phases) VALUES (?, ?, ?, ?, ?, ?, ?)",
  status: "UPDATE actions SET status = ? WHERE run = ? AND id = ?",
  phases: "UPDATE attempts SET phases = ? WHERE run = ? AND action = ? AND attempt = ?",
  attemptEnd:
    "UPDATE attempts SET ended_at = ?, error = ? WHERE run = ? AND action = ? AND attempt = ?",
  actionEnd:
    "UPDATE actions SET status = ?, ended_at = ?, error = ?, output = ?, seal = ?, finished = ? WHERE run = ? AND id = ?",
  trace:
    "INSERT OR REPLACE INTO traces (run, action, trace, ok, value, error, seal) VALUES (?, ?, ?, ?, ?, ?, ?)",
} as const;

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
  #queue: Queue = [];
  /** Queued event rows, flat: {@link EVENT_COLUMNS} values per row. */
  #events: unknown[] = [];
  /** Counts flushes: rows queued in an earlier batch are no longer in the queue to update. */
  #batch = 0;
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
    if (this.#db === null) this.#db = openDatabase(this.#file, runSchema, "The run store");
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
    let seq =
      (db
        .prepare<[string], { seq: number | null }>(
          "SELECT max(seq) AS seq FROM events WHERE run = ?",
        )
        .get(run)?.seq ?? 0) + 1;
    // Actions answered from the cache keep no output here: a resume finds them in the cache.
    const cached = new Set<string>();
    // The action and attempt rows still waiting in this batch's queue: later events of the same
    // action change those rows in place instead of queuing an UPDATE each (same rows written,
    // a fifth of the statements).
    let batch = this.#batch;
    const actionRows = new Map<string, unknown[]>();
    const attemptRows = new Map<string, unknown[]>();
    // Each open attempt's phases so far, written whole as JSON with its row.
    const phases = new Map<string, AttemptRecord>();
    const setStatus = (action: string, status: ActionStatus) => {
      const actionRow = actionRows.get(action);
      if (actionRow !== undefined) actionRow[ActionColumn.status] = status;
      else this.#queue.push(sql.status, [status, run, action]);
    };
    return (event: RunEvent) => {
      const q = this.#queue;
      if (batch !== this.#batch) {
        batch = this.#batch;
        actionRows.clear();
        attemptRows.clear();
      }
      switch (event.type) {
        case "run-started": {
          const args = call === undefined ? null : storable(call.args);
          q.push(sql.run, [
            run,
            event.task,
            event.at,
            call?.inputsHash ?? null,
            call?.version ?? null,
            call?.module ?? null,
            args,
            call === undefined ? null : callSeal(run, call, args),
          ]);
          break;
        }
        case "action-queued": {
          const row = [
            run,
            event.action,
            event.parent ?? null,
            event.task,
            event.group ?? null,
            "queued",
            0,
            event.at,
            null,
            null,
            null,
            null,
            queuedData(event),
            null,
          ];
          q.push(sql.action, row);
          actionRows.set(event.action, row);
          break;
        }
        case "action-cache-hit": {
          if (event.source !== "resume") cached.add(event.action);
          const row = actionRows.get(event.action);
          // 2: answered by the resumed run's stored output, which is not a cache hit.
          const hit = event.source === "resume" ? 2 : 1;
          if (row !== undefined) row[ActionColumn.cacheHit] = hit;
          else q.push(sql.hit, [hit, run, event.action]);
          break;
        }
        case "attempt-started": {
          const row = [run, event.action, event.attempt, event.at, null, null, null];
          q.push(sql.attempt, row);
          attemptRows.set(event.action, row);
          phases.set(event.action, { attempt: event.attempt, startedAt: event.at });
          setStatus(event.action, "waiting");
          break;
        }
        case "attempt-phase": {
          const record = phases.get(event.action);
          if (record === undefined || record.attempt !== event.attempt) break;
          applyPhase(record, event);
          const { attempt: _, startedAt: __, ...facts } = record;
          const text = JSON.stringify(facts);
          const row = attemptRows.get(event.action);
          if (row !== undefined && row[AttemptColumn.attempt] === event.attempt) {
            row[AttemptColumn.phases] = text;
          } else q.push(sql.phases, [text, run, event.action, event.attempt]);
          if (event.phase === "running") setStatus(event.action, "running");
          else if (event.phase === "backoff") setStatus(event.action, "waiting");
          break;
        }
        case "attempt-finished": {
          const row = attemptRows.get(event.action);
          if (row !== undefined && row[AttemptColumn.attempt] === event.attempt) {
            row[AttemptColumn.endedAt] = event.at;
            row[AttemptColumn.error] = json(event.error);
            attemptRows.delete(event.action);
          } else {
            // The backoff phase comes after an attempt's end: keep its record until the next one.
            q.push(sql.attemptEnd, [event.at, json(event.error), run, event.action, event.attempt]);
          }
          break;
        }
        case "action-finished": {
          phases.delete(event.action);
          const output =
            event.status === "succeeded" && !cached.delete(event.action)
              ? storable(event.output)
              : null;
          const seal = output === null ? null : outputSeal(run, event.action, output);
          const finished = event.status === "succeeded" ? finishedData(event) : null;
          const row = actionRows.get(event.action);
          if (row !== undefined) {
            row[ActionColumn.status] = event.status;
            row[ActionColumn.endedAt] = event.at;
            row[ActionColumn.error] = json(event.error);
            row[ActionColumn.output] = output;
            row[ActionColumn.seal] = seal;
            row[ActionColumn.finished] = finished;
            actionRows.delete(event.action);
          } else {
            q.push(sql.actionEnd, [
              event.status,
              event.at,
              json(event.error),
              output,
              seal,
              finished,
              run,
              event.action,
            ]);
          }
          break;
        }
        case "trace-recorded": {
          const record = event.record;
          if (record === undefined) break;
          const value = record.ok ? storable(record) : null;
          if (record.ok && value === null) break;
          const error = record.ok ? null : json(record.error);
          const ok = record.ok ? 1 : 0;
          q.push(sql.trace, [
            run,
            event.action,
            event.trace,
            ok,
            value,
            error,
            traceSeal(run, event.action, event.trace, ok, value, error),
          ]);
          break;
        }
        case "run-finished":
          q.push(sql.runEnd, [event.status, event.at, json(event.error), run]);
          // Secrets are known once the run's tasks resolved them: inputs that hold one are not kept.
          if (call !== undefined && knownSecrets.maskValue(call.args) !== call.args)
            q.push(sql.runArgs, [callSeal(run, call, null), run]);
          break;
        default:
          event satisfies never;
      }
      // An action (label, inputs, output preview, end) and its attempts (start, phases, end)
      // live in their own rows, not in the event log as well: four event rows fewer per call.
      if (
        event.type === "attempt-phase" ||
        event.type === "attempt-started" ||
        event.type === "attempt-finished" ||
        event.type === "action-queued" ||
        event.type === "action-finished"
      ) {
        this.#scheduleFlush();
        return;
      }
      this.#events.push(
        run,
        seq++,
        event.type,
        "action" in event ? event.action : null,
        event.at,
        eventData(event),
      );
      this.#scheduleFlush();
    };
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
    const rows = this.#queue;
    const events = this.#events;
    if (rows.length === 0 && events.length === 0) return;
    this.#queue = [];
    this.#events = [];
    this.#batch++;
    const db = this.database;
    if (db === undefined) return;
    // A few rows cost less to write here than a thread costs to start (a one-task program).
    this.#rowsPosted += rows.length / 2 + events.length / EVENT_COLUMNS;
    const writer = this.#rowsPosted > WRITER_AFTER_ROWS ? this.#startWriter() : undefined;
    if (writer?.usable) {
      writer.post({ rows, events });
      this.#stopWhenIdle();
      return;
    }
    try {
      writeRows(db, { rows, events }, this.#prepared);
    } catch (error) {
      notRecorded.note(`the run record (${this.#file})`, error);
    }
  }

  #startWriter(): RunStoreWriter | undefined {
    if (this.#writer !== null) return this.#writer;
    try {
      this.#writer = new RunStoreWriter(this.#file, (failure) =>
        notRecorded.note(
          `the run record (${this.#file})`,
          Object.assign(new Error(failure.message), { code: failure.code }),
        ),
      );
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

  #scheduleFlush(): void {
    if (this.#queue.length / 2 + this.#events.length / EVENT_COLUMNS >= FLUSH_ROWS) this.#post();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#post(), FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }
}

/** Parameter positions in a queued `actions` row. */
const ActionColumn = {
  status: 5,
  cacheHit: 6,
  endedAt: 8,
  error: 9,
  output: 10,
  seal: 11,
  finished: 13,
} as const;
/** Parameter positions in a queued `attempts` row. */
const AttemptColumn = { attempt: 2, endedAt: 4, error: 5, phases: 6 } as const;

/** An error as stored: JSON, with known secret values masked. */
function json(error: ErrorData | undefined): string | null {
  return error === undefined ? null : JSON.stringify(knownSecrets.maskValue(error));
}

/** The seal of a stored output: it belongs to this run and action, and these are its bytes. */
function outputSeal(run: string, id: string, output: Uint8Array): string {
  return sha256(Buffer.concat([Buffer.from(`${run}\n${id}\n`), output])).slice(0, 32);
}

function traceSeal(
  run: string,
  action: string,
  trace: string,
  ok: number,
  value: Uint8Array | null,
  error: string | null,
): string {
  const head = Buffer.from(`${run}\n${action}\n${trace}\n${ok}\n${error ?? ""}\n`);
  return sha256(value === null ? head : Buffer.concat([head, value])).slice(0, 32);
}

function callSeal(run: string, call: StoredCall, args: Uint8Array | null): string {
  const head = Buffer.from(
    `${run}\n${call.task}\n${call.inputsHash}\n${call.version ?? ""}\n${call.module ?? ""}\n`,
  );
  return sha256(args === null ? head : Buffer.concat([head, args])).slice(0, 32);
}

/** What an event row keeps beyond its type, action and time: attempt numbers, statuses, errors. */
function eventData(event: RunEvent): string | null {
  switch (event.type) {
    case "run-finished":
      return event.error === undefined
        ? `{"status":"${event.status}"}`
        : JSON.stringify({ status: event.status, error: knownSecrets.maskValue(event.error) });
    case "trace-recorded":
      return `{"trace":${JSON.stringify(event.trace)},"ok":${event.ok}}`;
    default:
      return null;
  }
}

/**
 * The value's bytes, or null when it cannot be stored or holds a known secret value (that action
 * simply runs again on resume).
 */
function storable(value: unknown): Buffer | null {
  try {
    if (knownSecrets.maskValue(value) !== value) return null;
    return serialize(value);
  } catch {
    return null;
  }
}
