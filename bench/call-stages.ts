// The per-stage cost of one sub-task call, each stage timed alone in this process (µs per call,
// median of 7 trials): ids, the cache stage (off, and a hit), admission, the run record's
// observers for one action's events, and a thread worker's round trip against piscina's — then
// whole calls in a run, inline and on a reusable thread environment (their difference is what
// dispatch and the worker add).
//
//   node --import tsx bench/call-stages.ts
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Piscina } from "piscina";
import { cacheKey } from "../src/cache/cache-key.js";
import { CacheStage } from "../src/cache/cache-stage.js";
import { MemoryCacheStore } from "../src/cache/cache-store.js";
import { hashInputs } from "../src/cache/inputs.js";
import * as flyte from "../src/index.js";
import { shortId } from "../src/internal/hash.js";
import type { RunEvent } from "../src/record/events.js";
import { RunRecord } from "../src/record/run-record.js";
import { RunStore } from "../src/record/run-store.js";
import { telemetryObserver } from "../src/record/telemetry.js";
import { LocalScheduler } from "../src/scheduler/local-scheduler.js";
// @ts-expect-error: the benchmarks' task module is plain JavaScript.
import { sequential } from "./tasks.js";

const n = Number(process.env.BENCH_N ?? 20_000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function perCall(fn: (i: number) => unknown): Promise<number> {
  const trials: number[] = [];
  for (let t = 0; t < 7; t++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = fn(i);
      if (r instanceof Promise) await r;
    }
    trials.push(((performance.now() - t0) * 1000) / n);
  }
  return median(trials);
}

const env = new flyte.TaskEnvironment({ name: "stages", runtime: "inline", cache: "auto" });
const square = env.task(async function square(x: number) {
  return x * x;
});
const inlineEnv = new flyte.TaskEnvironment({ name: "stages-inline", runtime: "inline" });
const incInline = inlineEnv.task(async function incInline(x: number) {
  return x + 1;
});
const sequentialInline = inlineEnv.task(async function sequentialInline(n: number) {
  for (let i = 0; i < n; i++) await incInline(i);
  return n;
});
const rows: [string, number][] = [];

rows.push([
  "ids: canonical inputs hash + action id",
  await perCall((i) => shortId(`a0-${hashInputs(square, [i])}-${square.name}-1`)),
]);

const off = new CacheStage(new MemoryCacheStore(), {
  read: false,
  write: false,
  signal: new AbortController().signal,
  hit: () => {},
});
rows.push([
  "cache stage, caching off",
  await perCall(() => off.run("a", square, [1], "h", async () => 1)),
]);
const store = new MemoryCacheStore();
await store.set(cacheKey(square, [3], hashInputs(square, [3])), 9);
const hits = new CacheStage(store, {
  read: true,
  write: true,
  signal: new AbortController().signal,
  hit: () => {},
});
const h3 = hashInputs(square, [3]);
rows.push([
  "cache stage, a hit (memory store)",
  await perCall(() => hits.run("a", square, [3], h3, async () => 0)),
]);

const scheduler = new LocalScheduler();
await scheduler.ready();
const request = {
  taskName: "t",
  resources: undefined,
  maxQueuedTimeMs: undefined,
  signal: new AbortController().signal,
};
rows.push([
  "admission of a task asking for nothing",
  await perCall(() => (scheduler.admitNow(request) ?? { release() {} }).release()),
]);

const home = mkdtempSync(join(tmpdir(), "flyte-ts-stages-"));
const runStore = new RunStore(home);
const record = new RunRecord();
const observe = runStore.observer("stages");
const otel = telemetryObserver();
const started: RunEvent = { type: "run-started", run: "stages", task: "t", at: 0 };
for (const o of [record.observe, observe, otel]) o(started);
rows.push([
  "record: one action's 7 events through the run record, runs.db and telemetry",
  await perCall((i) => {
    const action = `x${i}`;
    const events: RunEvent[] = [
      { type: "action-queued", action, parent: "a0", task: "t", group: undefined, at: i },
      { type: "attempt-started", action, attempt: 0, at: i },
      { type: "attempt-phase", action, attempt: 0, at: i, phase: "admitted" },
      {
        type: "attempt-phase",
        action,
        attempt: 0,
        at: i,
        phase: "placed",
        lane: "e/thread-1",
        threadId: 1,
      },
      { type: "attempt-phase", action, attempt: 0, at: i, phase: "running" },
      { type: "attempt-finished", action, attempt: 0, at: i },
      { type: "action-finished", action, status: "succeeded", at: i, output: i },
    ];
    for (const e of events) {
      record.observe(e);
      observe(e);
      otel(e);
    }
  }),
]);
runStore.flush();

const piscina = new Piscina({
  filename: new URL("./piscina-worker.js", import.meta.url).href,
  minThreads: 2,
  maxThreads: 2,
});
for (let i = 0; i < 2000; i++) await piscina.run(i);
const floor = await perCall((i) => piscina.run(i));
const ctx = flyte.withRunContext({ cacheDir: home });
await ctx.run(sequential, "inc", 2000);
const m = 2000;
const whole: number[] = [];
for (let t = 0; t < 5; t++) {
  const t0 = performance.now();
  await ctx.run(sequential, "inc", m);
  whole.push(((performance.now() - t0) * 1000) / m);
}
await ctx.run(sequentialInline, 2000);
const inline: number[] = [];
for (let t = 0; t < 5; t++) {
  const t0 = performance.now();
  await ctx.run(sequentialInline, m);
  inline.push(((performance.now() - t0) * 1000) / m);
}
rows.push(["floor: piscina run() round trip", floor]);
rows.push(["whole sub-task call, inline env (every stage but dispatch + worker)", median(inline)]);
rows.push(["whole sub-task call, reusable thread env (all stages)", median(whole)]);
rows.push(["dispatch + worker: thread env minus inline env", median(whole) - median(inline)]);

for (const [what, us] of rows)
  console.log(JSON.stringify({ id: "call.stages", what, engine: `${us.toFixed(2)} µs/call` }));
await piscina.destroy();
await flyte.shutdown();
