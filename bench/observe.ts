// What seeing a run costs: the event observers per event, the report and a live-view frame for
// 10k actions, and a whole 10k fan-out run against the same run on an engine without them.
//
//   node --import tsx bench/observe.ts [path/to/baseline/src/index.ts]
//
// The baseline engine (default: ../../main/src/index.ts, the main checkout) is loaded into the
// same process and its runs are interleaved trial by trial with this engine's.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { serialize } from "node:v8";
import type { RunEvent } from "../src/record/events.js";
import { headerLine, Progress, treeLines } from "../src/record/progress.js";
import { renderRunReport } from "../src/record/report.js";
import { RunRecord } from "../src/record/run-record.js";
import { RowQueue } from "../src/record/run-row-queue.js";
import { runRows } from "../src/record/run-rows.js";
import { RunStore } from "../src/record/run-store.js";
import { telemetryObserver } from "../src/record/telemetry.js";
import { callEvents } from "./call-events.js";

const trials = 7;
const actions = 10_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
const fmt = (xs: number[], unit: string, digits = 2) =>
  `${median(xs).toFixed(digits)} ${unit} [${Math.min(...xs).toFixed(digits)}, ${Math.max(...xs).toFixed(digits)}]`;

function eventStream(n: number): RunEvent[] {
  const events: RunEvent[] = [
    { type: "run-started", run: "bench", task: "b.main", at: 0 },
    {
      type: "action-queued",
      action: "a0",
      parent: undefined,
      task: "b.main",
      group: undefined,
      at: 0,
    },
    { type: "attempt-started", action: "a0", attempt: 0, at: 0 },
  ];
  for (let i = 0; i < n; i++) {
    const action = `s${i}`;
    events.push(
      { type: "action-queued", action, parent: "a0", task: "b.square", group: "squares", at: i },
      { type: "attempt-started", action, attempt: 0, at: i },
      { type: "attempt-finished", action, attempt: 0, at: i + 1 },
      { type: "action-finished", action, status: "succeeded", at: i + 1 },
    );
  }
  events.push(
    { type: "attempt-finished", action: "a0", attempt: 0, at: n + 1 },
    { type: "action-finished", action: "a0", status: "succeeded", at: n + 1 },
    { type: "run-finished", run: "bench", status: "succeeded", at: n + 2 },
  );
  return events;
}

function timeMs(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

const events = eventStream(actions);
const perEvent = { record: [] as number[], telemetry: [] as number[], progress: [] as number[] };
const report = { json: [] as number[], html: [] as number[] };
const frame: number[] = [];
for (let t = 0; t < trials; t++) {
  const record = new RunRecord();
  const toNs = (ms: number) => (ms * 1e6) / events.length;
  perEvent.record.push(toNs(timeMs(() => events.forEach(record.observe))));
  const otel = telemetryObserver();
  perEvent.telemetry.push(toNs(timeMs(() => events.forEach(otel))));
  const progress = new Progress();
  perEvent.progress.push(toNs(timeMs(() => events.forEach(progress.observe))));
  const data = record.toJSON()!;
  report.json.push(timeMs(() => JSON.stringify(data, null, 2)));
  report.html.push(timeMs(() => renderRunReport(data)));
  frame.push(timeMs(() => [headerLine(progress, actions), ...treeLines(progress, actions)]));
}

console.log(
  `observers over ${events.length} events (${actions} actions), ${trials} trials, median [min, max]`,
);
console.log(`  floor: RunRecord.observe       ${fmt(perEvent.record, "ns/event")}`);
console.log(
  `  telemetry (no provider)        ${fmt(perEvent.telemetry, "ns/event")}  ratio ${(median(perEvent.telemetry) / median(perEvent.record)).toFixed(2)}x`,
);
console.log(
  `  live view model                ${fmt(perEvent.progress, "ns/event")}  ratio ${(median(perEvent.progress) / median(perEvent.record)).toFixed(2)}x`,
);
console.log(`report for ${actions} actions`);
console.log(`  floor: run.json stringify      ${fmt(report.json, "ms")}`);
console.log(
  `  report.html render             ${fmt(report.html, "ms")}  ratio ${(median(report.html) / median(report.json)).toFixed(2)}x`,
);
console.log(
  `live view frame at ${actions} actions  ${fmt(frame, "ms")}  (budget: 100 ms between frames)`,
);

// The run store's rows for the seven events of one call (queued with its inputs, three phases, an
// output): built by the observer, taken in batches of about 1,000 calls and serialized as the
// post to the writer thread does, in µs per call (the writer's SQLite time is run-store-write.ts').
{
  const calls = 20_000;
  const stream = Array.from({ length: calls }, (_, i) => {
    const { queued, ran } = callEvents(i, `c${i.toString(36)}`);
    return [queued, ...ran];
  }).flat();
  const store = new RunStore(mkdtempSync(join(tmpdir(), "flyte-ts-bench-rows-")));
  const db = store.database;
  const rows: number[] = [];
  for (let t = 0; db !== undefined && t < trials; t++) {
    const queue: RowQueue = new RowQueue((queued) => {
      if (queued >= 2_000) serialize(queue.take());
    });
    const observe = runRows(`rows-${t}`, undefined, db, queue);
    observe({ type: "run-started", run: `rows-${t}`, task: "b.main", at: 0 });
    rows.push((timeMs(() => stream.forEach(observe)) * 1000) / calls);
  }
  store.close();
  console.log(`  run store rows, 7 events a call ${fmt(rows, "µs/call")}`);
}

// A whole run: 10k trivial children fanned out by one parent, this engine vs the baseline engine.
const baselinePath = resolve(
  process.argv[2] ?? join(import.meta.dirname, "../../../main/src/index.ts"),
);
if (!existsSync(baselinePath)) {
  console.log(`(no baseline engine at ${baselinePath}: skipping the whole-run comparison)`);
} else {
  type Engine = typeof import("../src/index.js");
  const mine = (await import("../src/index.js")) as Engine;
  const base = (await import(pathToFileURL(baselinePath).href)) as Engine;
  const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-bench-"));
  const program = (flyte: Engine, name: string) => {
    const env = new flyte.TaskEnvironment({ name });
    const square = env.task(async function square(x: number) {
      return x * x;
    });
    const main = env.task(async function main(n: number) {
      const xs = await Promise.all(Array.from({ length: n }, (_, i) => square(i)));
      return xs.length;
    });
    let runs = 0;
    return async () => {
      const t = performance.now();
      await flyte.withRunContext({ cacheDir, name: `${name}-${runs++}` }).run(main, actions);
      return performance.now() - t;
    };
  };
  const runMine = program(mine, "observed");
  const runBase = program(base, "baseline");
  await runMine();
  await runBase();
  const wall = { mine: [] as number[], base: [] as number[] };
  // Whole runs are noisy on a shared machine: more trials, still interleaved.
  for (let t = 0; t < 2 * trials; t++) {
    wall.base.push(await runBase());
    wall.mine.push(await runMine());
  }
  console.log(
    `whole run: one parent, ${actions} children (inline), run.json (+ report.html) written`,
  );
  console.log(`  floor: baseline engine         ${fmt(wall.base, "ms", 0)}`);
  console.log(
    `  this engine                    ${fmt(wall.mine, "ms", 0)}  ratio ${(median(wall.mine) / median(wall.base)).toFixed(2)}x (target <= 1.25x)`,
  );
}
