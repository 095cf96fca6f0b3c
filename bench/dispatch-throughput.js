// dispatch.throughput: trivial sub-tasks, 8 in flight and all at once, on a reusable thread env,
// against piscina with the same shapes in the same process.
import * as flyte from "flyte-ts";
import { Piscina } from "piscina";
import { interleaved, report } from "./common.js";
import { windowed } from "./tasks.js";

const n = Number(process.env.BENCH_N ?? 20_000);
const pool = new Piscina({
  filename: new URL("./piscina-worker.js", import.meta.url).href,
  minThreads: 2,
  maxThreads: 2,
});
const ctx = flyte.withRunContext({ cacheDir: process.env.BENCH_HOME ?? ".flyte-bench" });

async function piscinaWindow(inFlight) {
  if (inFlight === 0) {
    await Promise.all(Array.from({ length: n }, (_, i) => pool.run(i)));
    return;
  }
  let next = 0;
  const lane = async () => {
    while (next < n) await pool.run(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

await ctx.run(windowed, "inc", 2000, 8);
await piscinaWindow(8);
for (const inFlight of [8, 0]) {
  const { engineMs, floorMs } = await interleaved(
    3,
    () => ctx.run(windowed, "inc", n, inFlight),
    () => piscinaWindow(inFlight),
  );
  const e = n / (engineMs / 1000);
  const f = n / (floorMs / 1000);
  report(
    "dispatch.throughput",
    `${n} trivial sub-tasks, ${inFlight === 0 ? "all at once" : `${inFlight} in flight`}`,
    e,
    f,
    "tasks/s",
    e / f,
    ">= 0.8x piscina, >= 25k/s",
  );
}
await pool.destroy();
await flyte.shutdown();
