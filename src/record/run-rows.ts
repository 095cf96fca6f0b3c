/**
 * The rows the run store writes for a run's events: an observer that keeps each open action's
 * row (and its attempts' rows) as parameters, changed in place by the action's events, and queues
 * the changed ones whole in a {@link RowQueue} when the store takes a batch: one row per action
 * and batch, however many events it had, and no statement built per event.
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
import { type DeferredOutput, RunStatement as sql } from "./run-store-writer.js";

/** Where a resumed run's stored action has its rows: its `seq` and its attempts' (by number). */
interface StoredKeys {
  readonly seq: number;
  readonly attempts: number[];
}

/** The `seq` of the rows run `run` already has (a resumed run's), and the next free ones. */
function storedKeys(
  db: Database,
  run: string,
): { keys: Map<string, StoredKeys>; nextAction: number; nextAttempt: number } {
  const last = (table: string) =>
    db
      .prepare<[string], { seq: number | null }>(
        `SELECT max(seq) AS seq FROM ${table} WHERE run = ?`,
      )
      .get(run)?.seq ?? 0;
  const keys = new Map<string, StoredKeys>();
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

/**
 * An action whose row can still change: the parameters of its row and of its attempts' rows,
 * kept up to date by its events and queued whole when a batch is taken (an action's events
 * change one object, not a statement each).
 */
interface OpenAction {
  /** The parameters of its `actions` row ({@link ActionColumn}). */
  readonly params: unknown[];
  /** Its attempts, by attempt number. */
  readonly attempts: OpenAttempt[];
  /** The `seq` of its attempts' rows when a resumed run stored them. */
  readonly storedAttempts: readonly number[] | undefined;
  /** Answered from the cache: its output is not kept (a resume finds it in the cache). */
  cached: boolean;
  /** Its row changed since the last batch was taken. */
  changed: boolean;
  /** It is in this batch's list of changed actions. */
  listed: boolean;
  finished: boolean;
}

/** An attempt: its row's parameters ({@link AttemptColumn}) and its phases, written as JSON. */
interface OpenAttempt {
  readonly params: unknown[];
  readonly record: AttemptRecord;
  changed: boolean;
}

/**
 * An observer that queues the rows of run `run` into `queue`. `call` is the root call, kept so
 * that a resume can check it (and repeat it); `db` is read for where the run's rows go on.
 *
 * Each action and each attempt gets the next `seq` of its table within the run when first
 * queued: its row is appended, and a later batch writes it again by that key. An action queued
 * again (a resumed run's, whose rows this reads first) replaces its row. An action is kept here
 * from its `action-queued` event until the batch after it finished: events of actions this
 * observer never saw queued are not recorded.
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
  let nextAction = stored.nextAction;
  let nextAttempt = stored.nextAttempt;
  const open = new Map<string, OpenAction>();
  // The actions changed since the last batch, in the order they first changed.
  let changed: OpenAction[] = [];
  const list = (action: OpenAction) => {
    if (action.listed) return;
    action.listed = true;
    changed.push(action);
  };
  // Each row changed in this batch is counted once: the store flushes early on many waiting rows.
  const change = (action: OpenAction) => {
    if (!action.changed) {
      action.changed = true;
      queue.willAdd(1);
    }
    list(action);
  };
  const changeAttempt = (action: OpenAction, attempt: OpenAttempt) => {
    if (!attempt.changed) {
      attempt.changed = true;
      queue.willAdd(1);
    }
    list(action);
  };
  // Queues the rows of every changed action and attempt, as they are now.
  const fill = () => {
    const list = changed;
    if (list.length === 0) return;
    changed = [];
    for (let i = 0; i < list.length; i++) {
      const action = list[i] as OpenAction;
      action.listed = false;
      const { params, finished, attempts } = action;
      if (action.changed) {
        action.changed = false;
        // A finished action's row changes no more: it is queued as it is, not copied.
        queue.push(sql.action, finished ? params : params.slice());
      }
      for (let n = 0; n < attempts.length; n++) {
        const attempt = attempts[n];
        if (attempt?.changed !== true) continue;
        attempt.changed = false;
        const { attempt: _, startedAt: __, ...facts } = attempt.record;
        attempt.params[AttemptColumn.phases] = JSON.stringify(facts);
        queue.push(sql.attempt, finished ? attempt.params : attempt.params.slice());
      }
      if (finished) open.delete(params[ActionColumn.id] as string);
    }
  };
  const stopFilling = queue.beforeTake(fill);
  // After the run's end, a late event (an aborted body that settled after the run failed) queues
  // its action's rows at once: the store no longer fills this run's rows at each batch.
  let ended = false;
  return (event: RunEvent) => {
    const q = queue;
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
        const keys = stored.keys.get(event.action);
        const action: OpenAction = {
          params: [
            run,
            keys?.seq ?? nextAction++,
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
          ],
          attempts: [],
          storedAttempts: keys?.attempts,
          cached: false,
          changed: false,
          listed: false,
          finished: false,
        };
        open.set(event.action, action);
        change(action);
        break;
      }
      case "action-cache-hit": {
        const action = open.get(event.action);
        if (action === undefined) break;
        // 2: answered by the resumed run's stored output, which is not a cache hit.
        action.cached = event.source !== "resume";
        action.params[ActionColumn.cacheHit] = event.source === "resume" ? 2 : 1;
        change(action);
        break;
      }
      case "attempt-started": {
        const action = open.get(event.action);
        if (action === undefined) break;
        const attempt: OpenAttempt = {
          params: [
            run,
            action.storedAttempts?.[event.attempt] ?? nextAttempt++,
            event.action,
            event.attempt,
            event.at,
            null,
            null,
            null,
          ],
          record: { attempt: event.attempt, startedAt: event.at },
          changed: false,
        };
        action.attempts[event.attempt] = attempt;
        changeAttempt(action, attempt);
        action.params[ActionColumn.status] = "waiting";
        change(action);
        break;
      }
      case "attempt-phase": {
        const action = open.get(event.action);
        const attempt = action?.attempts[event.attempt];
        if (action === undefined || attempt === undefined) break;
        applyPhase(attempt.record, event);
        changeAttempt(action, attempt);
        if (event.phase === "running" || event.phase === "backoff") {
          action.params[ActionColumn.status] = event.phase === "running" ? "running" : "waiting";
          change(action);
        }
        break;
      }
      case "attempt-finished": {
        // The backoff phase comes after an attempt's end: the attempt is kept until the action's.
        const action = open.get(event.action);
        const attempt = action?.attempts[event.attempt];
        if (action === undefined || attempt === undefined) break;
        attempt.params[AttemptColumn.endedAt] = event.at;
        attempt.params[AttemptColumn.error] = json(event.error);
        changeAttempt(action, attempt);
        break;
      }
      case "action-finished": {
        const action = open.get(event.action);
        if (action === undefined) break;
        const params = action.params;
        const kept = event.status === "succeeded" && !action.cached;
        params[ActionColumn.status] = event.status;
        params[ActionColumn.endedAt] = event.at;
        params[ActionColumn.error] = json(event.error);
        if (kept && isSmallPrimitive(event.output)) {
          // Its bytes and seal are made where the row is written (run-store-writer.ts).
          const deferred: DeferredOutput = {
            deferredOutput: event.output,
            run,
            action: event.action,
          };
          params[ActionColumn.output] = deferred;
          params[ActionColumn.seal] = null;
        } else {
          const output = kept ? storable(event.output) : null;
          params[ActionColumn.output] = output;
          params[ActionColumn.seal] =
            output === null ? null : outputSeal(run, event.action, output);
        }
        params[ActionColumn.finished] = event.status === "succeeded" ? finishedData(event) : null;
        action.finished = true;
        change(action);
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
        fill();
        stopFilling();
        ended = true;
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
    if (ended) fill();
    q.queued();
  };
}

/** Parameter positions in an `actions` row. */
const ActionColumn = {
  id: 2,
  status: 6,
  cacheHit: 7,
  endedAt: 9,
  error: 10,
  output: 11,
  seal: 12,
  finished: 14,
} as const;
/** Parameter positions in an `attempts` row. */
const AttemptColumn = { endedAt: 5, error: 6, phases: 7 } as const;

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
