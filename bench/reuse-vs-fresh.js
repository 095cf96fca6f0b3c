// reuse.vs.fresh: a run of one task on a fresh (non-reusable) pool, its workers stopped after it,
// against a raw new Worker / fork to its first reply (and its exit); a second run() in the process
// on the workers the first left warm; and a call on a warm reusable pool against piscina's
// sequential run().
import { fork } from "node:child_process";
import { Worker } from "node:worker_threads";
import * as flyte from "flyte-ts";
import { Piscina } from "piscina";
import { interleaved, report } from "./common.js";
import { incFresh, incFreshProcess, sequential } from "./tasks.js";

const ctx = flyte.withRunContext({ cacheDir: process.env.BENCH_HOME ?? ".flyte-bench" });
const echoSource = `const { parentPort } = require("node:worker_threads"); parentPort.on("message", (x) => parentPort.postMessage(x + 1));`;

async function rawThread() {
  const worker = new Worker(echoSource, { eval: true });
  await new Promise((resolve) => {
    worker.once("message", resolve);
    worker.postMessage(1);
  });
  await worker.terminate();
}
async function rawFork() {
  const child = fork(new URL("./fork-echo.cjs", import.meta.url), [], {
    serialization: "advanced",
  });
  await new Promise((resolve) => {
    child.once("message", resolve);
    child.send(1);
  });
  await new Promise((resolve) => child.once("exit", resolve));
}

/**
 * What no engine can skip when a new thread runs a task: Node's thread start, then importing the
 * task's ES module, which imports flyte-ts (the ES module loader, the engine) and defines its
 * environments and tasks; then one reply and the thread's end.
 */
const importSource = `const { parentPort } = require("node:worker_threads");
globalThis[Symbol.for("flyte-ts.in-worker.v1")] = true;
import(${JSON.stringify(new URL("./tasks.js", import.meta.url).href)}).then(() => parentPort.postMessage(1));`;
async function rawThreadImport() {
  const worker = new Worker(importSource, { eval: true });
  await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await worker.terminate();
}

/** A run on new workers: the ones a previous run left warm are stopped first (not timed). */
const fresh = (task) => async () => {
  await ctx.run(task, 1);
  await flyte.shutdown();
};
await fresh(incFresh)();
await rawThread();
const thread = await interleaved(5, fresh(incFresh), rawThread);
report(
  "reuse.vs.fresh",
  "fresh thread pool: run of one task, workers stopped after",
  thread.engineMs,
  thread.floorMs,
  "ms",
  thread.engineMs / thread.floorMs,
  "fresh <= 1.5x raw start",
);
const imported = await interleaved(5, fresh(incFresh), rawThreadImport);
report(
  "reuse.vs.fresh",
  "fresh thread pool, against a raw new Worker that imports the task's module (no target)",
  imported.engineMs,
  imported.floorMs,
  "ms",
  imported.engineMs / imported.floorMs,
  "what the engine adds",
);
await ctx.run(incFresh, 1);
const warmThread = await interleaved(5, () => ctx.run(incFresh, 1), rawThread);
report(
  "reuse.vs.fresh",
  "second run() of a non-reusable thread env: workers kept warm",
  warmThread.engineMs,
  warmThread.floorMs,
  "ms",
  warmThread.engineMs / warmThread.floorMs,
  "< 1x raw start (no worker starts)",
);
await flyte.shutdown();
const proc = await interleaved(5, fresh(incFreshProcess), rawFork);
report(
  "reuse.vs.fresh",
  "fresh process pool: run of one task, workers stopped after",
  proc.engineMs,
  proc.floorMs,
  "ms",
  proc.engineMs / proc.floorMs,
  "fresh <= 1.5x raw start",
);
await ctx.run(incFreshProcess, 1);
const warmProc = await interleaved(5, () => ctx.run(incFreshProcess, 1), rawFork);
report(
  "reuse.vs.fresh",
  "second run() of a non-reusable process env: workers kept warm",
  warmProc.engineMs,
  warmProc.floorMs,
  "ms",
  warmProc.engineMs / warmProc.floorMs,
  "< 1x raw start (no worker starts)",
);

const n = 2000;
const pool = new Piscina({
  filename: new URL("./piscina-worker.js", import.meta.url).href,
  minThreads: 2,
  maxThreads: 2,
});
// Both warmed past 10k calls: piscina's first ~6k round trips on this 2-core VM run ~4x faster
// than its steady state while V8's background compiler threads keep the CPUs awake (with
// --single-threaded they do not); the figure compares steady states, as dispatch.seq does.
await ctx.run(sequential, "inc", 10_000);
for (let i = 0; i < 10_000; i++) await pool.run(i);
const warm = await interleaved(
  3,
  () => ctx.run(sequential, "inc", n),
  async () => {
    for (let i = 0; i < n; i++) await pool.run(i);
  },
);
const e = (warm.engineMs * 1000) / n;
const f = (warm.floorMs * 1000) / n;
report(
  "reuse.vs.fresh",
  "reused thread worker, per call",
  e,
  f,
  "µs",
  e / f,
  "reused <= 1.5x piscina",
);
await pool.destroy();
await flyte.shutdown();
