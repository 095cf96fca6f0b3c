/**
 * The OpenTelemetry span a traced call (`flyte.trace`) is recorded under: a child of its
 * attempt's span. The telemetry observer (record/telemetry.ts) registers each attempt's span
 * here while it runs; traced calls on the same thread find their parent by run and action.
 * @module
 */
import { createRequire } from "node:module";
import type { Span, Tracer } from "@opentelemetry/api";
import { version } from "../version.js";

type OpenTelemetry = typeof import("@opentelemetry/api");

/** The instrumentation scope name spans are created under. */
export const tracerName = "flyte-ts";

// Where every copy of @opentelemetry/api 1.x keeps its registered providers (its global-utils).
const otelGlobal = Symbol.for("opentelemetry.js.api.1");
let otel: OpenTelemetry | undefined;

/**
 * `@opentelemetry/api`, loaded once a program has registered a tracer provider; `undefined`
 * before. Without a provider there are no spans, so a worker or a run does not load it (about
 * forty files) for nothing.
 */
export function openTelemetry(): OpenTelemetry | undefined {
  if (otel !== undefined) return otel;
  const registered = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[otelGlobal];
  if (registered?.trace === undefined) return undefined;
  otel = createRequire(import.meta.url)("@opentelemetry/api") as OpenTelemetry;
  return otel;
}

/** The tracer of the registered provider, or `undefined` when none is registered (no spans). */
export function activeTracer(): Tracer | undefined {
  const api = openTelemetry();
  if (api === undefined) return undefined;
  const provider = api.trace.getTracerProvider();
  if (provider instanceof api.ProxyTracerProvider) {
    return provider.getDelegateTracer(tracerName, version);
  }
  return provider.getTracer(tracerName, version);
}

/** The API of a span that exists (its provider's registration loaded it). */
export function spanApi(): OpenTelemetry {
  const api = openTelemetry();
  if (api === undefined) throw new Error("A span exists but @opentelemetry/api is not loaded.");
  return api;
}

// The span of each running attempt, by run and action, so that traced calls made by the body
// on this thread become its children.
export const attemptSpans = new Map<string, Span>();
export const attemptSpanKey = (run: string, action: string) => `${run}\u0000${action}`;

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
  const api = spanApi();
  const parent = attemptSpans.get(attemptSpanKey(run, action));
  return tracer.startSpan(
    `flyte.trace ${name}`,
    { attributes: { "flyte.run": run, "flyte.action": action, "flyte.trace.replayed": replayed } },
    parent === undefined ? api.context.active() : api.trace.setSpan(api.context.active(), parent),
  );
}
