/**
 * The messages between the controller and a worker (thread or child process). Payloads are
 * encoded by the transport's `Wire` (serialization.ts): msgpackr bytes for processes, the values
 * themselves (structured clone) for threads. Either side may send several messages as one
 * `{ t: "batch", messages }` (batched-post.ts), which the other side takes in order.
 * @module
 */
import type { AssignedDevice, SubCall, TaskContextData, TraceRecord } from "../context/context.js";

/** What a `run` message's payload holds: the values that need msgpackr. */
export interface RunPayload {
  readonly args: readonly unknown[];
  readonly traces: readonly (readonly [string, TraceRecord])[];
}

/** A task as a worker finds it. */
export interface TaskInfo {
  readonly moduleUrl: string;
  readonly taskName: string;
  readonly version: string;
}

/** The parts of a task context that one run's attempts share. */
export type RunInfo = Pick<
  TaskContextData,
  "mode" | "rawDataPath" | "runBaseDir" | "customContext"
> & {
  readonly runName: string;
  /** Whether the body's output also goes to the terminal (it is captured either way). */
  readonly echoLogs: boolean;
};

/** What a `trace` message's payload holds. */
export interface TracePayload {
  readonly action: string;
  readonly traceId: string;
  readonly record: TraceRecord;
}

/** Controller to worker. */
export type ToWorker =
  /**
   * Run one attempt; `payload` is an encoded {@link RunPayload}. What stays the same across
   * attempts (the run's folders, the task's module) is sent to each worker once, under a key.
   */
  | {
      readonly t: "run";
      readonly job: number;
      /** Key of the task's {@link TaskInfo}; the info itself comes along the first time. */
      readonly task: number;
      readonly taskInfo?: TaskInfo;
      /** Key of the run's {@link RunInfo}; the info itself comes along the first time. */
      readonly run: number;
      readonly runInfo?: RunInfo;
      readonly action: string;
      readonly attemptNumber: number;
      readonly group: string | undefined;
      /** The attempt's devices and pinned cores, when it holds any. */
      readonly devices?: readonly AssignedDevice[];
      readonly cpus?: readonly number[];
      /** The attempt's folder of mounted secrets, when it has any. */
      readonly secretsDir?: string;
      /** Run the task once per item of `args[0]` (a batched `flyte.map` chunk). */
      readonly batch: boolean;
      readonly payload: unknown;
      /**
       * Sent ahead (sent-ahead.ts): held until this job of the worker ends, awaits or calls a
       * task, then started if its token is still in `slot`.
       */
      readonly after?: number;
      readonly slot?: number;
      /** The worker's shared slots, with the first attempt sent ahead to it. */
      readonly slots?: Int32Array;
    }
  /** The answer to a sub-call: encoded value, or encoded ErrorData when `ok` is false. */
  | {
      readonly t: "reply";
      readonly call: number;
      readonly ok: boolean;
      readonly payload: unknown;
    }
  /** Abort the attempt's `ctx().signal`; the worker answers `abort-ack` at once. */
  | { readonly t: "abort"; readonly job: number }
  /**
   * Import these tasks' modules now, under their keys: a replacement worker warms up before an
   * attempt needs it (`run` messages then carry only the keys).
   */
  | { readonly t: "load"; readonly tasks: readonly (readonly [number, TaskInfo])[] };

/** Worker to controller. */
export type FromWorker =
  /** The worker has loaded and listens. */
  | { readonly t: "ready" }
  /**
   * The body of an attempt started, sent only when the worker had to load the task's module first
   * (otherwise the body starts as the `run` message arrives, and the pool knows it).
   */
  | { readonly t: "started"; readonly job: number; readonly task: number }
  /**
   * An attempt ended: encoded output, or encoded ErrorData when `ok` is false; `runMs`: how long
   * its body ran, as the worker timed it.
   */
  | {
      readonly t: "done";
      readonly job: number;
      readonly ok: boolean;
      readonly payload: unknown;
      readonly runMs: number;
    }
  /** The body is still unsettled after its first turn: it awaits, and lends its slot. */
  | { readonly t: "waiting"; readonly job: number }
  /** The body wrote to stdout or stderr. */
  | {
      readonly t: "log";
      readonly job: number;
      readonly stream: "stdout" | "stderr";
      readonly text: string;
    }
  /** The body called a task; `payload` is a encoded {@link SubCall}. */
  | {
      readonly t: "call";
      readonly job: number;
      readonly call: number;
      readonly payload: unknown;
    }
  /** The body finished a traced call; `payload` is a encoded {@link TracePayload}. */
  | { readonly t: "trace"; readonly job: number; readonly payload: unknown }
  /** The worker's event loop is alive and the attempt's signal was aborted. */
  | { readonly t: "abort-ack"; readonly job: number };

export type { SubCall };
