/**
 * `flyte.trace(fn)`: records each call of a helper inside a task so that the next attempt of the
 * same action replays the recorded result instead of running the helper again.
 * @module
 */
import { canonicalHash } from "../cache/canonical.js";
import { errorFromData, errorToData, RuntimeDataValidationError } from "../errors.js";
import { shortId } from "../internal/hash.js";
import {
  actionId,
  currentFrame,
  type Frame,
  nextSequence,
  outsideFrame,
  runInFrame,
  type TraceRecord,
  withContext,
} from "./context.js";
import { spanApi, startTracedCallSpan } from "./trace-span.js";

/**
 * Wraps `fn` (sync, async, or an async generator) so that, inside a task, each call is recorded
 * as a trace of the running action. When the action's attempt fails and is retried, completed
 * traced calls replay their recorded output (or error) instead of running again — use it for
 * expensive or side-effecting steps such as LLM calls. Outside a task it is a plain call.
 * Calling a task inside a traced function fails with `TraceDoesNotAllowNestedTasksError`.
 *
 * @example
 * ```ts
 * const fetchPage = flyte.trace(async function fetchPage(url: string) {
 *   return (await fetch(url)).text();
 * });
 * ```
 */
export function trace<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  if (typeof fn !== "function") {
    throw new TypeError(`Expected flyte.trace to wrap a function, got ${typeof fn}.`);
  }
  const name = fn.name || "anonymous";
  const kind = fn.constructor.name;
  const traced = function (this: unknown, ...args: A): R {
    const frame = currentFrame();
    if (frame === undefined || frame.inTrace) return fn.apply(this, args);
    let inputsHash: string;
    try {
      inputsHash = canonicalHash(args);
    } catch (error) {
      throw new RuntimeDataValidationError(
        `The inputs of traced function \`${name}\` cannot be recorded: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const group = frame.context.group ?? "";
    const seq = nextSequence(frame, `trace|${name}|${inputsHash}|${group}`);
    const traceId = shortId(`${frame.context.action.name}-${name}-${inputsHash}-${seq}-${group}`);
    const recorded = frame.traces.get(traceId);
    const { runName, name: action } = frame.context.action;
    const span = startTracedCallSpan(runName, action, name, recorded !== undefined);
    span?.setAttribute("flyte.trace", traceId);
    if (recorded !== undefined) {
      if (span) outsideFrame(() => span.end());
      return replay(recorded, kind) as R;
    }
    const traceFrame: Frame = {
      ...frame,
      inTrace: true,
      context: withContext(frame.context, {
        action: actionId(traceId, frame.context.action.runName),
      }),
    };
    const record = (entry: TraceRecord | undefined) => {
      if (span !== undefined) {
        if (entry?.ok === false) {
          const message = `${entry.error.name}: ${entry.error.message}`;
          span.setStatus({ code: spanApi().SpanStatusCode.ERROR, message });
        }
        outsideFrame(() => span.end());
      }
      if (entry !== undefined) frame.channel.recordTrace(action, traceId, entry);
    };
    if (kind === "AsyncGeneratorFunction") {
      return recordGenerator(
        runInFrame(traceFrame, () => fn.apply(this, args)) as AsyncGenerator<unknown>,
        traceFrame,
        record,
      ) as R;
    }
    let result: R;
    try {
      result = runInFrame(traceFrame, () => fn.apply(this, args));
    } catch (error) {
      record({ ok: false, error: errorToData(error) });
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          recordValue(record, value);
          return value;
        },
        (error: unknown) => {
          record({ ok: false, error: errorToData(error) });
          throw error;
        },
      ) as R;
    }
    recordValue(record, result);
    return result;
  };
  Object.defineProperty(traced, "name", { value: name });
  return traced;
}

function recordValue(record: (entry: TraceRecord | undefined) => void, value: unknown): void {
  let copy: unknown;
  try {
    copy = structuredClone(value);
  } catch {
    // A value that cannot be copied cannot be replayed: the call simply runs again next attempt.
    record(undefined);
    return;
  }
  record({ ok: true, value: copy });
}

function replay(recorded: TraceRecord, kind: string): unknown {
  if (kind === "AsyncGeneratorFunction") {
    return (async function* replayItems() {
      if (!recorded.ok) throw errorFromData(recorded.error);
      yield* structuredClone(recorded.items ?? []);
    })();
  }
  if (!recorded.ok) {
    const error = errorFromData(recorded.error);
    if (kind === "AsyncFunction") return Promise.reject(error);
    throw error;
  }
  const value = structuredClone(recorded.value);
  return kind === "AsyncFunction" ? Promise.resolve(value) : value;
}

async function* recordGenerator(
  source: AsyncGenerator<unknown>,
  frame: Frame,
  record: (entry: TraceRecord | undefined) => void,
): AsyncGenerator<unknown> {
  const items: unknown[] = [];
  try {
    for (;;) {
      const next = await runInFrame(frame, () => source.next());
      if (next.done) break;
      items.push(next.value);
      yield next.value;
    }
  } catch (error) {
    record({ ok: false, error: errorToData(error) });
    throw error;
  }
  let copies: unknown[];
  try {
    copies = structuredClone(items);
  } catch {
    // Items that cannot be copied are not recorded; the generator runs again next attempt.
    record(undefined);
    return;
  }
  record({ ok: true, value: undefined, items: copies });
}
