// map.batched: flyte.map over many tiny items on a reusable thread env, per item, against raw
// pipelined postMessage to one worker thread (send all, await all replies).
import { Worker } from "node:worker_threads";
import * as flyte from "flyte-ts";
import { interleaved, report } from "./common.js";
import { mapped } from "./tasks.js";

const n = Number(process.env.BENCH_MAP ?? 100_000);
const worker = new Worker(
  `const { parentPort } = require("node:worker_threads"); parentPort.on("message", (x) => parentPort.postMessage(x + 1));`,
  { eval: true },
);
function pipelined() {
  return new Promise((resolve) => {
    let left = n;
    const onMessage = () => {
      if (--left === 0) {
        worker.off("message", onMessage);
        resolve();
      }
    };
    worker.on("message", onMessage);
    for (let i = 0; i < n; i++) worker.postMessage(i);
  });
}
const ctx = flyte.withRunContext({ cacheDir: process.env.BENCH_HOME ?? ".flyte-bench" });
await ctx.run(mapped, 2000);
await pipelined();
const { engineMs, floorMs } = await interleaved(3, () => ctx.run(mapped, n), pipelined);
const e = (engineMs * 1000) / n;
const f = (floorMs * 1000) / n;
report("map.batched", `flyte.map over ${n} tiny items`, e, f, "µs/item", e / f, "<= 5 µs/item");
await worker.terminate();
await flyte.shutdown();
