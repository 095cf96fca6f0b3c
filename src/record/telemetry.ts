/**
 * OpenTelemetry spans for runs, actions, attempts and traced calls, through `@opentelemetry/api`:
 * a no-op unless the program registers a tracer provider. Built as an observer of the run's
 * events, so it sees exactly what the run record sees.
 * @module
 */
import type { Attributes, Span, Tracer } from "@opentelemetry/api";
import { outsideFrame } from "../context/context.js";
import {
  activeTracer,
  attemptSpans,
  attemptSpanKey as key,
  spanApi,
} from "../context/trace-span.js";
import type { ErrorData } from "../errors.js";
import { knownSecrets } from "../internal/secret-mask.js";
import type { RunEvent, RunObserver } from "./events.js";

function fail(span: Span, raw: ErrorData): void {
  const error = knownSecrets.maskValue(raw);
  span.setStatus({
    code: spanApi().SpanStatusCode.ERROR,
    message: `${error.name}: ${error.message}`,
  });
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
      parent === undefined
        ? spanApi().context.active()
        : spanApi().trace.setSpan(spanApi().context.active(), parent),
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
      case "attempt-phase": {
        // Each phase is an event on the attempt's span; the placement and devices are attributes.
        const span = attempts.get(`${event.action}#${event.attempt}`);
        if (span === undefined) {
          // A backoff follows its attempt's end: it belongs to the action.
          if (event.phase === "backoff")
            actions.get(event.action)?.addEvent("flyte.backoff", event.at);
          return;
        }
        if (event.lane !== undefined) span.setAttribute("flyte.lane", event.lane);
        if (event.devices !== undefined) span.setAttribute("flyte.devices", [...event.devices]);
        if (event.cpus !== undefined) span.setAttribute("flyte.cpus", [...event.cpus]);
        const pid = event.pid ?? event.threadId;
        if (pid !== undefined) span.setAttribute(event.pid ? "flyte.pid" : "flyte.thread_id", pid);
        span.addEvent(`flyte.${event.phase}`, event.at);
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
      case "calls-waiting":
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
