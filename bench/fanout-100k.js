// fanout.100k: one parent awaits 100k children at once: wall time, heap per pending child and the
// longest event-loop stall, against piscina with 100k queued.
import * as flyte from "flyte-ts";
import { Piscina } from "piscina";
import { report, time } from "./common.js";
import { windowed } from "./tasks.js";

const n = Number(process.env.BENCH_FANOUT ?? 100_000);
const pool = new Piscina({
  filename: new URL("./piscina-worker.js", import.meta.url).href,
  minThreads: 2,
  maxThreads: 2,
});
const ctx = flyte.withRunContext({ cacheDir: process.env.BENCH_HOME ?? ".flyte-bench" });

async function measure(fn) {
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 20);
  // The longest the event loop went without running a 10 ms timer, less the 10 ms. (Node's
  // monitorEventLoopDelay reported ~0.2 s for a loop that was held for 1.8 s.)
  let last = performance.now();
  let longestGap = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 10);
  const ms = await time(fn);
  longestGap = Math.max(longestGap, performance.now() - last);
  clearInterval(probe);
  clearInterval(sampler);
  return { ms, heapPerChild: (peak - base) / n, stallMs: Math.max(0, longestGap - 10) };
}

await ctx.run(windowed, "inc", 2000, 8);
await Promise.all(Array.from({ length: 2000 }, (_, i) => pool.run(i)));
const floor = await measure(() => Promise.all(Array.from({ length: n }, (_, i) => pool.run(i))));
const engine = await measure(() => ctx.run(windowed, "inc", n, 0));
report(
  "fanout.100k",
  `${n} children of one parent, wall`,
  engine.ms,
  floor.ms,
  "ms",
  engine.ms / floor.ms,
  "<= 1.5x piscina",
);
report(
  "fanout.100k",
  "heap per pending child",
  engine.heapPerChild,
  floor.heapPerChild,
  "B",
  engine.heapPerChild / floor.heapPerChild,
  "<= 2 KB",
);
report(
  "fanout.100k",
  "longest event-loop stall",
  engine.stallMs,
  floor.stallMs,
  "ms",
  engine.stallMs / floor.stallMs,
  "no stall > 100 ms",
);
await pool.destroy();
await flyte.shutdown();
