/**
 * OpenTelemetry spans for runs, actions, attempts and traced calls, through `@opentelemetry/api`:
 * a no-op unless the program registers a tracer provider. Built as an observer of the run's
 * events, so it sees exactly what the run record sees.
 * @module
 */
import {
  type Attributes,
  context,
  ProxyTracerProvider,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { outsideFrame } from "../context/context.js";
import type { ErrorData } from "../errors.js";
import { knownSecrets } from "../internal/secret-mask.js";
import { version } from "../version.js";
import type { RunEvent, RunObserver } from "./events.js";

/** The instrumentation scope name spans are created under. */
export const tracerName = "flyte-ts";

/** The tracer of the registered provider, or `undefined` when none is registered (no spans). */
function activeTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  if (provider instanceof ProxyTracerProvider) {
    return provider.getDelegateTracer(tracerName, version);
  }
  return provider.getTracer(tracerName, version);
}

// The span of each running attempt, by run and action, so that traced calls made by the body
// on this thread become its children.
const attemptSpans = new Map<string, Span>();
const key = (run: string, action: string) => `${run}\u0000${action}`;

function fail(span: Span, raw: ErrorData): void {
  const error = knownSecrets.maskValue(raw);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` });
  span.recordException({
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  });
  span.setAttribute("flyte.error.code", error.code);
  span.setAttribute("flyte.error.kind", error.kind);
}

/**
 * An observer that turns a run's events into spans: `flyte.run` (the root), one `flyte.action`
 * per action (child of its parent action), one `flyte.attempt` per attempt (child of its action).
 * Attributes: `flyte.run`, `flyte.action`, `flyte.task`, `flyte.group`, `flyte.attempt`,
 * `flyte.cache_hit`, `flyte.devices`, `flyte.lane`, `flyte.status`. Whether a provider is
 * registered is checked when the run starts; without one the observer does nothing for that run.
 *
 * @example
 * ```ts
 * // Spans are recorded once a provider is registered, e.g. with @opentelemetry/sdk-trace-base:
 * trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }));
 * await flyte.run(main, 10);
 * ```
 */
export function telemetryObserver(): RunObserver {
  let runName = "";
  let runSpan: Span | undefined;
  let tracer: Tracer | undefined;
  const actions = new Map<string, Span>();
  const attempts = new Map<string, Span>();
  const startChild = (
    tracer: Tracer,
    name: string,
    parent: Span | undefined,
    at: number,
    attributes: Attributes,
  ) =>
    tracer.startSpan(
      name,
      { startTime: at, attributes },
      parent === undefined ? context.active() : trace.setSpan(context.active(), parent),
    );
  const observe = (event: RunEvent, tracer: Tracer) => {
    switch (event.type) {
      case "run-started":
        runName = event.run;
        runSpan = startChild(tracer, `flyte.run ${event.task}`, undefined, event.at, {
          "flyte.run": event.run,
          "flyte.task": event.task,
        });
        return;
      case "action-queued": {
        const parent = event.parent === undefined ? runSpan : actions.get(event.parent);
        const attributes: Attributes = {
          "flyte.run": runName,
          "flyte.action": event.action,
          "flyte.task": event.task,
          "flyte.cache_hit": false,
        };
        if (event.group !== undefined) attributes["flyte.group"] = event.group;
        actions.set(
          event.action,
          startChild(tracer, `flyte.action ${event.task}`, parent, event.at, attributes),
        );
        return;
      }
      case "action-cache-hit":
        actions.get(event.action)?.setAttribute("flyte.cache_hit", true);
        return;
      case "attempt-started": {
        const action = actions.get(event.action);
        const attributes: Attributes = {
          "flyte.run": runName,
          "flyte.action": event.action,
          "flyte.attempt": event.attempt,
        };
        if (event.lane !== undefined) attributes["flyte.lane"] = event.lane;
        const span = startChild(
          tracer,
          `flyte.attempt ${event.attempt}`,
          action,
          event.at,
          attributes,
        );
        attempts.set(`${event.action}#${event.attempt}`, span);
        attemptSpans.set(key(runName, event.action), span);
        return;
      }
      case "attempt-finished": {
        const id = `${event.action}#${event.attempt}`;
        const span = attempts.get(id);
        if (span === undefined) return;
        attempts.delete(id);
        if (attemptSpans.get(key(runName, event.action)) === span) {
          attemptSpans.delete(key(runName, event.action));
        }
        if (event.devices !== undefined) span.setAttribute("flyte.devices", [...event.devices]);
        if (event.lane !== undefined) span.setAttribute("flyte.lane", event.lane);
        if (event.error !== undefined) fail(span, event.error);
        span.end(event.at);
        return;
      }
      case "action-finished": {
        const span = actions.get(event.action);
        if (span === undefined) return;
        actions.delete(event.action);
        span.setAttribute("flyte.status", event.status);
        if (event.error !== undefined) fail(span, event.error);
        span.end(event.at);
        return;
      }
      case "trace-recorded":
        return;
      case "run-finished":
        if (runSpan === undefined) return;
        runSpan.setAttribute("flyte.status", event.status);
        if (event.error !== undefined) fail(runSpan, event.error);
        runSpan.end(event.at);
        return;
      default:
        event satisfies never;
    }
  };
  return (event: RunEvent) => {
    if (event.type === "run-started") tracer = activeTracer();
    // Outside the task's frame, so that timers an exporter starts are not the task's.
    if (tracer !== undefined) outsideFrame(() => observe(event, tracer as Tracer));
  };
}

/**
 * Starts the span of one traced call (`flyte.trace <name>`), a child of the running attempt's
 * span when this thread has it; `undefined` when no tracer provider is registered. The caller
 * ends it.
 */
export function startTracedCallSpan(
  run: string,
  action: string,
  name: string,
  replayed: boolean,
): Span | undefined {
  const tracer = activeTracer();
  if (tracer === undefined) return undefined;
  const parent = attemptSpans.get(key(run, action));
  return tracer.startSpan(
    `flyte.trace ${name}`,
    { attributes: { "flyte.run": run, "flyte.action": action, "flyte.trace.replayed": replayed } },
    parent === undefined ? context.active() : trace.setSpan(context.active(), parent),
  );
}
