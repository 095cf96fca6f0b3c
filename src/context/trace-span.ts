/**
 * The OpenTelemetry span a traced call (`flyte.trace`) is recorded under: a child of its
 * attempt's span. The telemetry observer (record/telemetry.ts) registers each attempt's span
 * here while it runs; traced calls on the same thread find their parent by run and action.
 * @module
 */
import { context, ProxyTracerProvider, type Span, type Tracer, trace } from "@opentelemetry/api";
import { version } from "../version.js";

/** The instrumentation scope name spans are created under. */
export const tracerName = "flyte-ts";

/** The tracer of the registered provider, or `undefined` when none is registered (no spans). */
export function activeTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  if (provider instanceof ProxyTracerProvider) {
    return provider.getDelegateTracer(tracerName, version);
  }
  return provider.getTracer(tracerName, version);
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
  const parent = attemptSpans.get(attemptSpanKey(run, action));
  return tracer.startSpan(
    `flyte.trace ${name}`,
    { attributes: { "flyte.run": run, "flyte.action": action, "flyte.trace.replayed": replayed } },
    parent === undefined ? context.active() : trace.setSpan(context.active(), parent),
  );
}
