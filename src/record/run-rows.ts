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
import type { RunEvent, RunObserver } from "./events.js";
import { type AttemptRecord, applyPhase } from "./run-record.js";
import type { RowQueue } from "./run-row-queue.js";
import { callSeal, outputSeal, traceSeal } from "./run-seals.js";
import type { StoredCall } from "./run-store.js";
import type { DeferredOutput } from "./run-store-writer.js";

/** The statements the run store queues, as SQL (prepared by the connection that writes them). */
const sql = {
  run:
    "INSERT INTO runs (name, task, status, started_at, inputs_hash, version, module, args, seal) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?) " +
    "ON CONFLICT (name) DO UPDATE SET task = excluded.task, status = 'running', started_at = excluded.started_at, ended_at = NULL, error = NULL, " +
    "inputs_hash = excluded.inputs_hash, version = excluded.version, module = excluded.module, args = excluded.args, seal = excluded.seal",
  runArgs: "UPDATE runs SET args = NULL, seal = ? WHERE name = ?",
  runEnd: "UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE name = ?",
  action:
    "INSERT OR REPLACE INTO actions (run, seq, id, parent, task, grp, status, cache_hit, queued_at, ended_at, error, output, seal, queued, finished) " +
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  attempt:
    "INSERT OR REPLACE INTO attempts (run, seq, action, attempt, started_at, ended_at, error, phases) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  // A value left null keeps the column's: an action's or attempt's later events only fill in.
  actionPatch:
    "UPDATE actions SET status = coalesce(?, status), cache_hit = coalesce(?, cache_hit), ended_at = coalesce(?, ended_at), " +
    "error = coalesce(?, error), output = coalesce(?, output), seal = coalesce(?, seal), finished = coalesce(?, finished) WHERE run = ? AND seq = ?",
  attemptPatch:
    "UPDATE attempts SET ended_at = coalesce(?, ended_at), error = coalesce(?, error), phases = coalesce(?, phases) WHERE run = ? AND seq = ?",
  trace:
    "INSERT OR REPLACE INTO traces (run, action, trace, ok, value, error, seal) VALUES (?, ?, ?, ?, ?, ?, ?)",
} as const;

/** Where an action's rows are: its `seq` and its attempts' (by attempt number). */
interface ActionKeys {
  readonly seq: number;
  readonly attempts: number[];
}

/** The `seq` of the rows run `run` already has (a resumed run's), and the next free ones. */
function storedKeys(
  db: Database,
  run: string,
): { keys: Map<string, ActionKeys>; nextAction: number; nextAttempt: number } {
  const last = (table: string) =>
    db
      .prepare<[string], { seq: number | null }>(
        `SELECT max(seq) AS seq FROM ${table} WHERE run = ?`,
      )
      .get(run)?.seq ?? 0;
  const keys = new Map<string, ActionKeys>();
  const lastAction = last("actions");
  const lastAttempt = last("attempts");
  if (lastAction > 0) {
    for (const row of db
      .prepare<[string], { id: string; seq: number }>("SELECT id, seq FROM actions WHERE run = ?")
      .all(run)) {
      keys.set(row.id, { seq: row.seq, attempts: [] });
    }
  }
  if (lastAttempt > 0) {
    for (const row of db
      .prepare<[string], { action: string; attempt: number; seq: number }>(
        "SELECT action, attempt, seq FROM attempts WHERE run = ?",
      )
      .all(run)) {
      const key = keys.get(row.action);
      if (key !== undefined) key.attempts[row.attempt] = row.seq;
    }
  }
  return { keys, nextAction: lastAction + 1, nextAttempt: lastAttempt + 1 };
}

/** The columns of an action's row that its later events set. */
type ActionField = keyof typeof PatchColumn;

/**
 * An observer that queues the rows of run `run` into `queue`. `call` is the root call, kept so
 * that a resume can check it (and repeat it); `db` is read for where the run's rows go on.
 *
 * Each action and each attempt gets the next `seq` of its table within the run when first
 * queued: its row is appended, and later batches change it by that key. An action queued again
 * (a resumed run's, whose rows this reads first) replaces its row, as it did when rows were keyed
 * by action id.
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
  const stored = storedKeys(db, run);
  const keys = stored.keys;
  let nextAction = stored.nextAction;
  let nextAttempt = stored.nextAttempt;
  const keyOf = (action: string): ActionKeys => {
    let key = keys.get(action);
    if (key === undefined) {
      key = { seq: nextAction++, attempts: [] };
      keys.set(action, key);
    }
    return key;
  };
  // Actions answered from the cache keep no output here: a resume finds them in the cache.
  const cached = new Set<string>();
  // The rows and changes still waiting in this batch's queue, by action: later events of the
  // same action change them in place instead of queuing a statement each (the same rows
  // written, a fifth of the statements; one UPDATE per action and batch at most).
  let batch = queue.batch;
  const actionRows = new Map<string, unknown[]>();
  const actionPatches = new Map<string, unknown[]>();
  const attemptRows = new Map<string, unknown[]>();
  const attemptPatches = new Map<string, unknown[]>();
  // Each open attempt's phases so far, written whole as JSON with its row.
  const phases = new Map<string, AttemptRecord>();
  // Queued rows and patches whose phases column is written from its record when the batch is
  // taken: once per attempt and batch, not once per phase.
  const unwrittenPhases = new Map<unknown[], readonly [number, AttemptRecord]>();
  const writePhases = () => {
    for (const [params, [column, record]] of unwrittenPhases) {
      const { attempt: _, startedAt: __, ...facts } = record;
      params[column] = JSON.stringify(facts);
    }
    unwrittenPhases.clear();
  };
  const stopWritingPhases = queue.beforeTake(writePhases);
  const setAction = (action: string, field: ActionField, value: unknown) => {
    const row = actionRows.get(action);
    if (row !== undefined) {
      row[ActionColumn[field]] = value;
      return;
    }
    let patch = actionPatches.get(action);
    if (patch === undefined) {
      patch = [null, null, null, null, null, null, null, run, keyOf(action).seq];
      queue.push(sql.actionPatch, patch);
      actionPatches.set(action, patch);
    }
    patch[PatchColumn[field]] = value;
  };
  /** The queued row or patch of an attempt, and the position of `field` in it. */
  const attemptParams = (
    action: string,
    attempt: number,
    field: "endedAt" | "error" | "phases",
  ): readonly [unknown[], number] | undefined => {
    const row = attemptRows.get(action);
    if (row !== undefined && row[AttemptColumn.attempt] === attempt) {
      return [row, AttemptColumn[field]];
    }
    const attemptSeq = keyOf(action).attempts[attempt];
    if (attemptSeq === undefined) return undefined;
    let patch = attemptPatches.get(action);
    if (patch === undefined || patch[AttemptPatchColumn.seq] !== attemptSeq) {
      patch = [null, null, null, run, attemptSeq];
      queue.push(sql.attemptPatch, patch);
      attemptPatches.set(action, patch);
    }
    return [patch, AttemptPatchColumn[field]];
  };
  const setAttempt = (
    action: string,
    attempt: number,
    field: "endedAt" | "error",
    value: unknown,
  ) => {
    const at = attemptParams(action, attempt, field);
    if (at !== undefined) at[0][at[1]] = value;
  };
  return (event: RunEvent) => {
    const q = queue;
    if (batch !== queue.batch) {
      batch = queue.batch;
      actionRows.clear();
      actionPatches.clear();
      attemptRows.clear();
      attemptPatches.clear();
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
          keyOf(event.action).seq,
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
      case "action-cache-hit":
        if (event.source !== "resume") cached.add(event.action);
        // 2: answered by the resumed run's stored output, which is not a cache hit.
        setAction(event.action, "cacheHit", event.source === "resume" ? 2 : 1);
        break;
      case "attempt-started": {
        const attempts = keyOf(event.action).attempts;
        attempts[event.attempt] ??= nextAttempt++;
        const row = [
          run,
          attempts[event.attempt],
          event.action,
          event.attempt,
          event.at,
          null,
          null,
          null,
        ];
        q.push(sql.attempt, row);
        attemptRows.set(event.action, row);
        phases.set(event.action, { attempt: event.attempt, startedAt: event.at });
        setAction(event.action, "status", "waiting");
        break;
      }
      case "attempt-phase": {
        const record = phases.get(event.action);
        if (record === undefined || record.attempt !== event.attempt) break;
        applyPhase(record, event);
        const at = attemptParams(event.action, event.attempt, "phases");
        if (at !== undefined) unwrittenPhases.set(at[0], [at[1], record]);
        if (event.phase === "running") setAction(event.action, "status", "running");
        else if (event.phase === "backoff") setAction(event.action, "status", "waiting");
        break;
      }
      case "attempt-finished":
        // The backoff phase comes after an attempt's end: its record is kept until the next one.
        setAttempt(event.action, event.attempt, "endedAt", event.at);
        setAttempt(event.action, event.attempt, "error", json(event.error));
        break;
      case "action-finished": {
        phases.delete(event.action);
        const kept = event.status === "succeeded" && !cached.delete(event.action);
        setAction(event.action, "status", event.status);
        setAction(event.action, "endedAt", event.at);
        setAction(event.action, "error", json(event.error));
        if (kept && isSmallPrimitive(event.output)) {
          // Its bytes and seal are made where the row is written (run-store-writer.ts).
          const deferred: DeferredOutput = {
            deferredOutput: event.output,
            run,
            action: event.action,
          };
          setAction(event.action, "output", deferred);
          setAction(event.action, "seal", null);
        } else {
          const output = kept ? storable(event.output) : null;
          setAction(event.action, "output", output);
          setAction(
            event.action,
            "seal",
            output === null ? null : outputSeal(run, event.action, output),
          );
        }
        setAction(
          event.action,
          "finished",
          event.status === "succeeded" ? finishedData(event) : null,
        );
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
        writePhases();
        stopWritingPhases();
        q.push(sql.runEnd, [event.status, event.at, json(event.error), run]);
        // Secrets are known once the run's tasks resolved them: inputs that hold one are not kept.
        if (call !== undefined && knownSecrets.maskValue(call.args) !== call.args)
          q.push(sql.runArgs, [callSeal(run, call, null), run]);
        break;
      case "calls-waiting":
        // The live view's: not kept.
        return;
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
  status: 6,
  cacheHit: 7,
  endedAt: 9,
  error: 10,
  output: 11,
  seal: 12,
  finished: 14,
} as const;
/** Parameter positions in a queued `actionPatch` (the run and the action's `seq` follow). */
const PatchColumn = {
  status: 0,
  cacheHit: 1,
  endedAt: 2,
  error: 3,
  output: 4,
  seal: 5,
  finished: 6,
} as const;
/** Parameter positions in a queued `attempts` row. */
const AttemptColumn = { attempt: 3, endedAt: 5, error: 6, phases: 7 } as const;
/** Parameter positions in a queued `attemptPatch`. */
const AttemptPatchColumn = { endedAt: 0, error: 1, phases: 2, seq: 4 } as const;

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
 * Whether an output is a primitive that holds no known secret: its bytes (`v8.serialize`) and
 * seal are then left to whoever writes the row (the writer thread), and it crosses there as it is.
 */
function isSmallPrimitive(value: unknown): boolean {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return true;
    case "string":
      return value.length <= 4096 && knownSecrets.maskValue(value) === value;
    default:
      return value === null;
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
