// io.fanout: 1,000 async bodies that each await a 100 ms timer on the default environment
// (thread pool) against the same program on runtime "inline", interleaved trial by trial; and 4
// bodies that compute for 200 ms on the pool, which must still run one per worker.
import { availableParallelism } from "node:os";
import * as flyte from "flyte-ts";
import { interleaved, report } from "./common.js";
import { fanOutIo } from "./tasks.js";

const n = Number(process.env.BENCH_N ?? 1000);
const ctx = flyte.withRunContext({ cacheDir: process.env.BENCH_HOME ?? ".flyte-bench" });
await ctx.run(fanOutIo, "waitPooled", 50, 10);
const { engineMs, floorMs } = await interleaved(
  5,
  () => ctx.run(fanOutIo, "waitPooled", n, 100),
  () => ctx.run(fanOutIo, "waitInline", n, 100),
);
report(
  "io.fanout",
  `${n} bodies awaiting 100 ms, default env vs inline`,
  engineMs,
  floorMs,
  "ms",
  engineMs / floorMs,
  "<= 1.3x inline",
);
const spans = await (await ctx.run(fanOutIo, "computePooled", 4, 200)).outputs();
const edges = spans.flatMap(([a, b]) => [
  [a, 1],
  [b, -1],
]);
edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
let now = 0;
let peak = 0;
for (const [, step] of edges) {
  now += step;
  peak = Math.max(peak, now);
}
console.log(
  JSON.stringify({
    id: "io.fanout.cpu",
    what: "4 bodies computing 200 ms: most at once",
    engine: `${peak} at once`,
    floor: `${availableParallelism()} workers`,
    ratio: `${(peak / availableParallelism()).toFixed(2)}x`,
    target: "no more than one per worker",
  }),
);
