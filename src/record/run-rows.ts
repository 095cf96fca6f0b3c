/**
 * The rows the run store writes for a run's events: an observer that turns each event into
 * statements and their parameters, queued in a {@link RowQueue} until the store writes them as
 * one batch. Later events of an action change its rows still waiting in the queue instead of
 * queuing an UPDATE each.
 * @module
 */
import { serialize } from "node:v8";
import type { Database } from "../cache/database.js";
import type { ErrorData } from "../errors.js";
import { knownSecrets } from "../internal/secret-mask.js";
import { finishedData, queuedData } from "./action-io.js";
import type { ActionStatus, RunEvent, RunObserver } from "./events.js";
import { type AttemptRecord, applyPhase } from "./run-record.js";
import { callSeal, outputSeal, traceSeal } from "./run-seals.js";
import type { StoredCall } from "./run-store.js";
import { EVENT_COLUMNS, type RowBatch } from "./run-store-writer.js";

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
 * The rows queued for the next write, shared by the observers of one run store. `queued` hears
 * of every event that queued rows, with the number of rows now waiting.
 */
export class RowQueue {
  #rows: unknown[] = [];
  #events: unknown[] = [];
  #batch = 0;
  readonly #queued: (rows: number) => void;

  constructor(queued: (rows: number) => void) {
    this.#queued = queued;
  }

  /** Counts the batches taken: rows queued before the current one are no longer here. */
  get batch(): number {
    return this.#batch;
  }

  /** Queues statement `sql` with `params` (kept by reference: they may change until taken). */
  push(sql: string, params: unknown[]): void {
    this.#rows.push(sql, params);
  }

  /** Queues one event row of {@link EVENT_COLUMNS} values. */
  pushEvent(
    run: string,
    seq: number,
    type: string,
    action: string | null,
    at: number,
    data: string | null,
  ): void {
    this.#events.push(run, seq, type, action, at, data);
  }

  /** Tells the store that an event queued rows. */
  queued(): void {
    this.#queued(this.#rows.length / 2 + this.#events.length / EVENT_COLUMNS);
  }

  /** Takes what is queued as one batch (`undefined` when nothing is) and starts the next. */
  take(): RowBatch | undefined {
    if (this.#rows.length === 0 && this.#events.length === 0) return undefined;
    const batch = { rows: this.#rows, events: this.#events };
    this.#rows = [];
    this.#events = [];
    this.#batch++;
    return batch;
  }
}

/**
 * An observer that queues the rows of run `run` into `queue`. `call` is the root call, kept so
 * that a resume can check it (and repeat it); `db` is read for where the run's rows go on.
 */
export function runRows(
  run: string,
  call: StoredCall | undefined,
  db: Database,
  queue: RowQueue,
): RunObserver {
  let seq =
    (db
      .prepare<[string], { seq: number | null }>("SELECT max(seq) AS seq FROM events WHERE run = ?")
      .get(run)?.seq ?? 0) + 1;
  // Actions answered from the cache keep no output here: a resume finds them in the cache.
  const cached = new Set<string>();
  // The action and attempt rows still waiting in this batch's queue: later events of the same
  // action change those rows in place instead of queuing an UPDATE each (same rows written,
  // a fifth of the statements).
  let batch = queue.batch;
  const actionRows = new Map<string, unknown[]>();
  const attemptRows = new Map<string, unknown[]>();
  // Each open attempt's phases so far, written whole as JSON with its row.
  const phases = new Map<string, AttemptRecord>();
  const setStatus = (action: string, status: ActionStatus) => {
    const actionRow = actionRows.get(action);
    if (actionRow !== undefined) actionRow[ActionColumn.status] = status;
    else queue.push(sql.status, [status, run, action]);
  };
  return (event: RunEvent) => {
    const q = queue;
    if (batch !== queue.batch) {
      batch = queue.batch;
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
      event.type !== "attempt-phase" &&
      event.type !== "attempt-started" &&
      event.type !== "attempt-finished" &&
      event.type !== "action-queued" &&
      event.type !== "action-finished"
    ) {
      q.pushEvent(
        run,
        seq++,
        event.type,
        "action" in event ? event.action : null,
        event.at,
        eventData(event),
      );
    }
    q.queued();
  };
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
export function storable(value: unknown): Buffer | null {
  try {
    if (knownSecrets.maskValue(value) !== value) return null;
    return serialize(value);
  } catch {
    return null;
  }
}
