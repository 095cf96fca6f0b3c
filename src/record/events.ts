/**
 * What happens during a run, as a stream of events. The run record, the live view and the run
 * store are all observers of this stream.
 * @module
 */
import type { TraceRecord } from "../context/context.js";
import type { ErrorData } from "../errors.js";
import type { Parameter } from "../internal/parameters.js";

/**
 * The phases of one attempt after it started waiting for admission, in order; `"limited"` (a
 * concurrency or rate limit holds it, before admission) only when a limit applies; `"backoff"`
 * follows a failed attempt that will be retried.
 */
export type AttemptPhase = "limited" | "admitted" | "placed" | "running" | "backoff";

/**
 * The state of an action: `queued` (made, not yet attempting), `waiting` (an attempt waits for
 * admission, a worker, or a retry's backoff), `running` (a body runs), then how it ended.
 */
export type ActionStatus = "queued" | "waiting" | "running" | "succeeded" | "failed" | "cancelled";

/** The state of a run. */
export type RunStatus = "running" | "succeeded" | "failed" | "cancelled";

/** One event of a run. Times are milliseconds since the epoch, from the run's clock. */
export type RunEvent =
  | {
      readonly type: "run-started";
      readonly run: string;
      readonly at: number;
      readonly task: string;
      /** The run's folder (where report.html and the logs go), when it has one. */
      readonly dir?: string;
    }
  | {
      readonly type: "action-queued";
      readonly action: string;
      readonly parent: string | undefined;
      readonly task: string;
      readonly group: string | undefined;
      readonly at: number;
      /** How people see the action: its task's `shortName`, else `train(lr=0.01, seed=2)`. */
      readonly label?: string;
      /** The call's arguments as given (observers read them, never change them). */
      readonly inputs?: readonly unknown[];
      /** The task's parameters, naming `inputs`. */
      readonly parameters?: readonly Parameter[];
      /** The canonical hash of `inputs` (what the cache key is made of). */
      readonly inputsHash?: string;
    }
  | {
      readonly type: "action-cache-hit";
      readonly action: string;
      readonly at: number;
      /** `"resume"` when the output was replayed from the resumed run. @default "cache" */
      readonly source?: "cache" | "resume";
    }
  | {
      /** The attempt starts waiting for admission (its first phase). */
      readonly type: "attempt-started";
      readonly action: string;
      readonly attempt: number;
      readonly at: number;
      /** The worker (lane) the attempt runs on, when the emitter knows it up front. */
      readonly lane?: string;
    }
  | {
      /**
       * The attempt entered a phase: `admitted` (it now waits for a worker slot, a worker's
       * start-up included), `placed` (a worker took it: `lane`, `pid`/`threadId`), `running` (the
       * body started; `maxRuntime` counts from here), `backoff` (it failed and waits `delayMs`
       * before the next attempt).
       */
      readonly type: "attempt-phase";
      readonly action: string;
      readonly attempt: number;
      readonly at: number;
      readonly phase: AttemptPhase;
      /** With `placed`: the worker, e.g. `"demo/thread-3"`. */
      readonly lane?: string;
      readonly pid?: number;
      readonly threadId?: number;
      /** With `admitted`: device ids the scheduler assigned (GPU uuids, TPU chips), when any. */
      readonly devices?: readonly string[];
      /** With `admitted`: the cores the attempt is pinned to, when any. */
      readonly cpus?: readonly number[];
      /** With `backoff`: how long until the next attempt. */
      readonly delayMs?: number;
      /**
       * With `running`: the size in bytes of the action's checkpoint when the body started (the
       * attempt starts from it); absent when there was none.
       */
      readonly checkpointBytes?: number;
      /** With `limited`: the limit it waits for, e.g. "waiting for the rateLimit of environment `llm` (10 per 1.0s)". */
      readonly reason?: string;
    }
  | {
      readonly type: "attempt-finished";
      readonly action: string;
      readonly attempt: number;
      readonly at: number;
      readonly error?: ErrorData;
      /** Device ids the scheduler assigned to the attempt (GPU uuids, TPU chips), when any. */
      readonly devices?: readonly string[];
      /** The worker (lane) the attempt ran on, when the executor told the controller. */
      readonly lane?: string;
    }
  | {
      readonly type: "action-finished";
      readonly action: string;
      readonly status: ActionStatus;
      readonly at: number;
      readonly error?: ErrorData;
      /** The action's output, when it succeeded (the run store keeps it for resume). */
      readonly output?: unknown;
    }
  | {
      readonly type: "trace-recorded";
      readonly action: string;
      readonly trace: string;
      readonly ok: boolean;
      readonly at: number;
      /** The recorded result (the run store keeps it for resume). */
      readonly record?: TraceRecord;
    }
  | {
      /**
       * Calls made by bodies that the controller has not issued yet (context/call-pacer.ts): a
       * fan-out's calls beyond its loop's first slice, and calls held while the pools' queues
       * are full. They are not actions yet. Sent when the number changes, at most once a slice.
       */
      readonly type: "calls-waiting";
      readonly count: number;
      readonly at: number;
    }
  | {
      readonly type: "run-finished";
      readonly run: string;
      readonly status: RunStatus;
      readonly at: number;
      readonly error?: ErrorData;
    };

/** Receives a run's events, in order. Must not throw (a throwing observer is logged and skipped). */
export type RunObserver = (event: RunEvent) => void;
