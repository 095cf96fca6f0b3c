/**
 * The messages between the controller and a worker (thread or child process). Payloads are
 * msgpackr bytes (serialization.ts), so both transports carry the same shapes.
 * @module
 */
import type { SubCall, TaskContextData, TraceRecord } from "../context/context.js";

/** What a `run` message's payload holds: the values that need msgpackr. */
export interface RunPayload {
  readonly args: readonly unknown[];
  readonly traces: readonly (readonly [string, TraceRecord])[];
}

/** What a `trace` message's payload holds. */
export interface TracePayload {
  readonly action: string;
  readonly traceId: string;
  readonly record: TraceRecord;
}

/** Controller to worker. */
export type ToWorker =
  /** Run one attempt; `payload` is a packed {@link RunPayload}. Plain strings travel as they are. */
  | {
      readonly t: "run";
      readonly job: number;
      readonly moduleUrl: string;
      readonly taskName: string;
      readonly context: TaskContextData;
      /** Run the task once per item of `args[0]` (a batched `flyte.map` chunk). */
      readonly batch: boolean;
      readonly payload: Uint8Array;
    }
  /** The answer to a sub-call: packed value, or packed ErrorData when `ok` is false. */
  | {
      readonly t: "reply";
      readonly call: number;
      readonly ok: boolean;
      readonly payload: Uint8Array;
    }
  /** Abort the attempt's `ctx().signal`; the worker answers `abort-ack` at once. */
  | { readonly t: "abort"; readonly job: number };

/** Worker to controller. */
export type FromWorker =
  /** The worker has loaded and listens. */
  | { readonly t: "ready" }
  /** An attempt ended: packed output, or packed ErrorData when `ok` is false. */
  | { readonly t: "done"; readonly job: number; readonly ok: boolean; readonly payload: Uint8Array }
  /** The body called a task; `payload` is a packed {@link SubCall}. */
  | {
      readonly t: "call";
      readonly job: number;
      readonly call: number;
      readonly payload: Uint8Array;
    }
  /** The body finished a traced call; `payload` is a packed {@link TracePayload}. */
  | { readonly t: "trace"; readonly job: number; readonly payload: Uint8Array }
  /** The worker's event loop is alive and the attempt's signal was aborted. */
  | { readonly t: "abort-ack"; readonly job: number };

export type { SubCall };
