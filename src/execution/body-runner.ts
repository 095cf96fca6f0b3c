/**
 * Runs one attempt's body, the same way wherever it runs (inline on the controller's thread, or
 * in a worker): in its own frame (so `flyte.ctx()`, groups, traces and task calls see the
 * attempt), with its output checked by the caller's rule, and its `flyte.report` flushed after a
 * successful `report: true` body (as upstream does).
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import {
  attemptContext,
  type ControllerChannel,
  type Frame,
  runInFrame,
  type TaskContextData,
  type TraceRecord,
} from "../context/context.js";
import { Report } from "../context/report.js";
import { runChunk, spreadsItems } from "./batch.js";

/** One attempt's body and what it runs with. */
export interface Body {
  /** The task (for a batched chunk, the task each item is a call of). */
  readonly task: Pick<TaskTemplate, "func" | "parameters" | "report">;
  readonly args: readonly unknown[];
  /** Run the task once per item of `args[0]` (a batched `flyte.map` chunk). */
  readonly batch: boolean;
  readonly context: TaskContextData;
  /** The attempt's abort; its `signal` is read only when the body asks for it. */
  readonly abort: { readonly signal: AbortSignal };
  readonly channel: ControllerChannel;
  readonly traces: ReadonlyMap<string, TraceRecord>;
}

/**
 * Runs the body and resolves with `output(value)` (a copy, or the value after a crossability
 * check); rejects with what the body threw. `onFrame` sees the frame before the body starts.
 */
export async function runBody<T>(
  body: Body,
  output: (value: unknown) => T,
  onFrame?: (frame: Frame) => void,
): Promise<T> {
  const { task, context } = body;
  const frame: Frame = {
    context: attemptContext(context, body.abort),
    channel: body.channel,
    traces: body.traces,
    sequences: new Map(),
    inTrace: false,
    report: new Report(context.action.name, context.outputPath),
  };
  onFrame?.(frame);
  const func = task.func as (...input: unknown[]) => unknown;
  const value = await runInFrame(frame, () =>
    body.batch ? runChunk(func, spreadsItems(task), body.args[0] as unknown[]) : func(...body.args),
  );
  const result = output(value);
  if (task.report) await frame.report?.flush();
  return result;
}
