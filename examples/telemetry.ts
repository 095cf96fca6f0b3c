/**
 * Telemetry: flyte-ts creates OpenTelemetry spans for the run, each action, each attempt and each
 * traced call through `@opentelemetry/api`. They cost nothing until a tracer provider is
 * registered; this program registers one that prints every finished span to the console.
 *
 *   npx tsx examples/telemetry.ts     # prints spans, then 13
 *
 * Any exporter works the same way (OTLP to Jaeger, Tempo, Honeycomb...): register its provider
 * before the run.
 */
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import * as flyte from "flyte-ts";

// Inline: a traced call makes its span in the process where it runs, and spans are not yet
// carried into worker threads or processes (see the README's deviations).
export const env = new flyte.TaskEnvironment({
  name: "telemetry",
  cache: "auto",
  runtime: "inline",
});

export const square = env.task(async function square(x: number): Promise<number> {
  return x * x;
});

// A traced helper: its span is a child of the attempt that called it.
const lookUp = flyte.trace(async function lookUp(x: number): Promise<number> {
  return x + 1;
});

export const main = env.task(async function main(x: number = 2): Promise<number> {
  const first = await square(x);
  const again = await square(x); // same inputs: a cache hit (flyte.cache_hit = true)
  const extra = await lookUp(x);
  return first + again + extra + 2;
});

flyte.main(import.meta, async () => {
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
  });
  trace.setGlobalTracerProvider(provider);
  const run = await flyte.run(main, 2);
  await provider.shutdown();
  console.log(await run.outputs());
});
