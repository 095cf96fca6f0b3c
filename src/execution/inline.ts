/**
 * The inline executor: task bodies run on the controller's own thread, in their own async
 * context. No isolation: a body that ignores its abort signal keeps running after a timeout
 * (its result is discarded).
 * @module
 */
import { type Frame, runInFrame } from "../context/context.js";
import { Report } from "../context/report.js";
import { RuntimeDataValidationError } from "../errors.js";
import { parameterName } from "../internal/inputs.js";
import type { ExecuteRequest, Executor } from "./executor.js";

/** Copies a value as it would cross to a worker, naming `what` when it cannot. */
export function copyValue<T>(value: T, what: () => string): T {
  if (value === null || typeof value !== "object") {
    if (typeof value === "function" || typeof value === "symbol") {
      throw new RuntimeDataValidationError(
        `${what()} is ${typeof value === "function" ? "a function" : "a symbol"}, which cannot be copied to another action. Pass plain data.`,
      );
    }
    return value;
  }
  try {
    return structuredClone(value);
  } catch (error) {
    throw new RuntimeDataValidationError(
      `${what()} cannot be copied to another action: ${error instanceof Error ? error.message : String(error)}. Pass plain data.`,
      { cause: error },
    );
  }
}

/** Runs bodies on this thread. */
export class InlineExecutor implements Executor {
  readonly reportsPhases = true;

  execute(request: ExecuteRequest): Promise<unknown> {
    const { template } = request;
    let args: unknown[];
    try {
      args = request.args.map((arg, i) =>
        copyValue(
          arg,
          () => `Input \`${parameterName(template, i)}\` of task \`${template.name}\``,
        ),
      );
    } catch (error) {
      return Promise.reject(error);
    }
    const frame: Frame = {
      context: { ...request.context, signal: request.signal },
      channel: request.channel,
      traces: request.traces,
      sequences: new Map(),
      inTrace: false,
      report: new Report(request.context.action.name, request.context.outputPath),
    };
    let result: unknown;
    request.placed?.("inline", { pid: process.pid });
    request.started?.();
    try {
      result = runInFrame(frame, () => template.func(...args));
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(result).then((value) => {
      const output = copyValue(value, () => `The output of task \`${template.name}\``);
      // Upstream flushes a `report: true` task's report after a successful run only.
      if (!template.report || frame.report === undefined) return output;
      return frame.report.flush().then(() => output);
    });
  }

  async close(): Promise<void> {}
}
