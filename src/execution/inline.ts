import { parameterName } from "../cache/inputs.js";
import { RuntimeDataValidationError } from "../errors.js";
import { runBody } from "./body-runner.js";
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
    request.placed?.("inline", { pid: process.pid });
    request.started?.();
    return runBody(
      {
        task: template,
        args,
        batch: false,
        context: request.context,
        abort: request.abort,
        channel: request.channel,
        traces: request.traces,
      },
      (value) => copyValue(value, () => `The output of task \`${template.name}\``),
    );
  }

  async close(): Promise<void> {}
}
