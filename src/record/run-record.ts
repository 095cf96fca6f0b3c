/**
 * The in-memory record of one run, built from its events (`Run.actions`); the run store keeps it on disk.
 * @module
 */
import type { ErrorData } from "../errors.js";
import { inputPreviews, outputPreview } from "./action-label.js";
import type { ActionStatus, RunEvent, RunStatus } from "./events.js";

/**
 * One attempt of an action, phase by phase: it waits for admission from `startedAt`, for a worker
 * from `admittedAt`, is loaded on its worker from `placedAt`, runs from `runningAt`, and ends at
 * `endedAt`. A phase it never reached has no time.
 */
export interface AttemptRecord {
  readonly attempt: number;
  readonly startedAt: number;
  admittedAt?: number;
  placedAt?: number;
  /** When the body started: its running time is `endedAt - runningAt`. */
  runningAt?: number;
  endedAt?: number;
  error?: ErrorData;
  /** The worker the attempt ran on (`"demo/thread-3"`), when the executor reported one. */
  lane?: string;
  /** The worker's process id, or its thread id. */
  pid?: number;
  threadId?: number;
  /** Device ids assigned to the attempt, when any. */
  devices?: readonly string[];
  /** Cores the attempt was pinned to, when any. */
  cpus?: readonly number[];
  /** The backoff that followed this attempt before the next one, in ms. */
  backoffMs?: number;
  /** The size in bytes of the checkpoint the attempt started from (`ctx().checkpoint`), when any. */
  checkpointBytes?: number;
  /** The last limit (concurrency or rate) it waited for before admission, when one held it. */
  limitedBy?: string;
}

/** One action of a run. */
export interface ActionRecord {
  readonly id: string;
  readonly parent: string | undefined;
  readonly task: string;
  readonly group: string | undefined;
  status: ActionStatus;
  cacheHit: boolean;
  /** Answered from the resumed run's stored output (not a cache hit). */
  resumed?: boolean;
  readonly queuedAt: number;
  endedAt?: number;
  readonly attempts: AttemptRecord[];
  error?: ErrorData;
  /** How people see the action: its task's `shortName`, else `train(lr=0.01, seed=2)`. */
  label?: string;
  /** Its inputs, each with its parameter's name and a bounded preview of its value. */
  inputs?: readonly { readonly name: string; readonly preview: string }[];
  /** A bounded preview of its output, when it succeeded. */
  output?: string;
}

/**
 * How long an action's last attempt waited before its body ran (admission, a worker, its module's
 * import) and how long that body ran: what the report's action list and `flyte-ts runs show`
 * both say. `undefined` for a phase the attempt never reached (a cache hit, a wait that failed).
 */
export function lastAttemptTimes(action: ActionRecord): {
  readonly waitedMs: number | undefined;
  readonly ranMs: number | undefined;
} {
  const last = action.attempts.at(-1);
  if (last?.runningAt === undefined) return { waitedMs: undefined, ranMs: undefined };
  return {
    waitedMs: last.runningAt - last.startedAt,
    ranMs: last.endedAt === undefined ? undefined : last.endedAt - last.runningAt,
  };
}

/** A whole run as plain data (what `flyte-ts runs show --json` prints). */
export interface RunRecordData {
  readonly name: string;
  readonly task: string;
  status: RunStatus;
  readonly startedAt: number;
  endedAt?: number;
  error?: ErrorData;
  readonly actions: ActionRecord[];
}

type PhaseEvent = Extract<RunEvent, { type: "attempt-phase" }>;

/** Records one phase's time and facts on its attempt. */
export function applyPhase(attempt: AttemptRecord, event: PhaseEvent): void {
  switch (event.phase) {
    case "limited":
      if (event.reason !== undefined) attempt.limitedBy = event.reason;
      return;
    case "admitted":
      attempt.admittedAt = event.at;
      if (event.devices !== undefined) attempt.devices = event.devices;
      if (event.cpus !== undefined) attempt.cpus = event.cpus;
      return;
    case "placed":
      attempt.placedAt = event.at;
      if (event.lane !== undefined) attempt.lane = event.lane;
      if (event.pid !== undefined) attempt.pid = event.pid;
      if (event.threadId !== undefined) attempt.threadId = event.threadId;
      return;
    case "running":
      attempt.runningAt = event.at;
      if (event.checkpointBytes !== undefined) attempt.checkpointBytes = event.checkpointBytes;
      return;
    case "backoff":
      if (event.delayMs !== undefined) attempt.backoffMs = event.delayMs;
      return;
    default:
      event.phase satisfies never;
  }
}

/** Attempt `attempt` of `action`: almost always its latest. */
function attemptOf(action: ActionRecord, attempt: number): AttemptRecord | undefined {
  const { attempts } = action;
  const last = attempts[attempts.length - 1];
  return last?.attempt === attempt ? last : attempts.find((a) => a.attempt === attempt);
}

/** Builds a run's record from its events. */
export class RunRecord {
  readonly #actions = new Map<string, ActionRecord>();
  #run: RunRecordData | undefined;

  /** Applies one event. */
  readonly observe = (event: RunEvent): void => {
    switch (event.type) {
      case "run-started":
        this.#run = {
          name: event.run,
          task: event.task,
          status: "running",
          startedAt: event.at,
          actions: [],
        };
        return;
      case "action-queued": {
        const action: ActionRecord = {
          id: event.action,
          parent: event.parent,
          task: event.task,
          group: event.group,
          status: "queued",
          cacheHit: false,
          queuedAt: event.at,
          attempts: [],
        };
        if (event.label !== undefined) action.label = event.label;
        if (event.inputs !== undefined) action.inputs = inputPreviews(event);
        this.#actions.set(event.action, action);
        return;
      }
      case "action-cache-hit": {
        const action = this.#actions.get(event.action);
        if (action && event.source === "resume") action.resumed = true;
        else if (action) action.cacheHit = true;
        return;
      }
      case "attempt-started": {
        const action = this.#actions.get(event.action);
        if (!action) return;
        action.status = "waiting";
        const attempt: AttemptRecord = { attempt: event.attempt, startedAt: event.at };
        if (event.lane !== undefined) attempt.lane = event.lane;
        action.attempts.push(attempt);
        return;
      }
      case "attempt-phase": {
        const action = this.#actions.get(event.action);
        const attempt = action && attemptOf(action, event.attempt);
        if (!action || !attempt) return;
        applyPhase(attempt, event);
        if (event.phase === "running") action.status = "running";
        else if (event.phase === "backoff") action.status = "waiting";
        return;
      }
      case "attempt-finished": {
        const action = this.#actions.get(event.action);
        const attempt = action && attemptOf(action, event.attempt);
        if (!attempt) return;
        attempt.endedAt = event.at;
        if (event.error) attempt.error = event.error;
        if (event.lane !== undefined) attempt.lane = event.lane;
        if (event.devices !== undefined) attempt.devices = event.devices;
        return;
      }
      case "action-finished": {
        const action = this.#actions.get(event.action);
        if (!action) return;
        action.status = event.status;
        action.endedAt = event.at;
        if (event.error) action.error = event.error;
        if (event.status === "succeeded") action.output = outputPreview(event);
        return;
      }
      case "trace-recorded":
        return;
      case "run-finished":
        if (!this.#run) return;
        this.#run.status = event.status;
        this.#run.endedAt = event.at;
        if (event.error) this.#run.error = event.error;
        return;
      case "calls-waiting":
        return;
      default:
        event satisfies never;
    }
  };

  /** The actions, in the order they were queued. */
  get actions(): readonly ActionRecord[] {
    return [...this.#actions.values()];
  }

  /** The action with this id. */
  action(id: string): ActionRecord | undefined {
    return this.#actions.get(id);
  }

  /** The whole record as plain data. */
  toJSON(): RunRecordData | undefined {
    return this.#run && { ...this.#run, actions: this.actions as ActionRecord[] };
  }
}
