import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import * as flyte from "flyte-ts";
import { MemoryCacheStore } from "flyte-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneGpuScheduler } from "../../fixtures/gpu-lease.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-otel-"));
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
});

const env = new flyte.TaskEnvironment({ name: "otel", cache: "auto", runtime: "inline" });
const square = env.task(async function square(x: number) {
  return x * x;
});
const helper = flyte.trace(async function helper(x: number) {
  return x + 1;
});
let flakyCalls = 0;
const noWait = new flyte.RetryStrategy({ count: 1, backoff: 0 });
const flaky = env.task({ retries: noWait, cache: "disable" }, async function flaky() {
  if (++flakyCalls === 1) throw new Error("first attempt fails");
  return helper(1);
});
const main = env.task({ cache: "disable" }, async function main() {
  await square(3);
  await square(3);
  return flaky();
});

const gpus = oneGpuScheduler(7);

describe("OpenTelemetry spans", () => {
  it("nests run, action, attempt and traced-call spans with their attributes", async () => {
    exporter.reset();
    const run = new flyte.RunContext(
      { cacheDir, name: "otel" },
      { scheduler: gpus, cache: new MemoryCacheStore() },
    );
    await run.run(main);
    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.filter((s) => s.name === name);
    const parentOf = (span: ReadableSpan) =>
      spans.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
    const [runSpan] = byName("flyte.run otel.main");
    expect(runSpan?.attributes).toMatchObject({ "flyte.run": "otel", "flyte.status": "succeeded" });
    const [mainSpan] = byName("flyte.action otel.main");
    expect(parentOf(mainSpan!)).toBe(runSpan);
    const squares = byName("flyte.action otel.square");
    expect(squares.map((s) => s.attributes["flyte.cache_hit"])).toEqual([false, true]);
    expect(squares.every((s) => parentOf(s) === mainSpan)).toBe(true);
    const [flakySpan] = byName("flyte.action otel.flaky");
    const attempts = spans.filter((s) => parentOf(s) === flakySpan);
    expect(attempts.map((s) => [s.name, s.attributes["flyte.attempt"], s.status.code])).toEqual([
      ["flyte.attempt 0", 0, 2],
      ["flyte.attempt 1", 1, 0],
    ]);
    expect(attempts[0]?.attributes["flyte.devices"]).toEqual(["gpu7"]);
    expect(attempts[0]?.events.map((e) => e.name)).toEqual([
      "flyte.admitted",
      "flyte.placed",
      "flyte.running",
      "exception",
    ]);
    const [traced] = byName("flyte.trace helper");
    expect(parentOf(traced!)).toBe(attempts[1]);
    expect(traced?.attributes["flyte.trace.replayed"]).toBe(false);
  });
});
