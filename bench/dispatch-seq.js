// dispatch.seq: 10k trivial sub-tasks one at a time on a reusable thread env, against piscina
// run() one at a time (2 threads) in the same process, interleaved trial by trial.
import * as flyte from "flyte-ts";
import { Piscina } from "piscina";
import { interleaved, report } from "./common.js";
import { sequential } from "./tasks.js";

const n = Number(process.env.BENCH_N ?? 10_000);
const pool = new Piscina({
  filename: new URL("./piscina-worker.js", import.meta.url).href,
  minThreads: 2,
  maxThreads: 2,
});
const ctx = flyte.withRunContext({ cacheDir: process.env.BENCH_HOME ?? ".flyte-bench" });
// Warm both past 10k calls (see reuse-vs-fresh.js: piscina's first ~6k round trips run faster
// than its steady state while V8's background threads keep the CPUs awake).
await ctx.run(sequential, "inc", 10_000);
for (let i = 0; i < 10_000; i++) await pool.run(i);

const { engineMs, floorMs } = await interleaved(
  5,
  () => ctx.run(sequential, "inc", n),
  async () => {
    for (let i = 0; i < n; i++) await pool.run(i);
  },
);
const e = (engineMs * 1000) / n;
const f = (floorMs * 1000) / n;
report(
  "dispatch.seq",
  `${n} sequential sub-tasks, thread`,
  e,
  f,
  "µs/task",
  e / f,
  "<= 1.5x piscina",
);
await pool.destroy();
await flyte.shutdown();
