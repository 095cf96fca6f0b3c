// fanout.100k: one parent awaits 100k children at once: wall time, heap per pending child and the
// longest event-loop stall, against piscina with 100k queued; and, in a second untimed pass, the
// live heap per child once half of them are done.
import { AsyncLocalStorage } from "node:async_hooks";
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

/**
 * The heap the children hold while half of them are pending: `fn` is run again, untimed, and
 * once `finished()` reaches n/2 a full collection is forced and the heap measured. The peak
 * figure above counts garbage not collected yet; this one counts what the pending children (and
 * the finished ones' records) keep.
 */
async function liveHeap(fn, finished) {
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  let live;
  const sampler = setInterval(() => {
    if (live !== undefined || finished() < n / 2) return;
    globalThis.gc?.();
    live = (process.memoryUsage().heapUsed - base) / n;
  }, 20);
  await fn();
  clearInterval(sampler);
  return live ?? Number.NaN;
}

/**
 * What the caller's own code costs, with no engine: inside an AsyncLocalStorage scope (which
 * `flyte.ctx()` and nested calls need; on Node 20 it hooks every promise), n calls that each
 * return a promise, awaited with `Promise.all`, settled 1000 per turn of the event loop.
 */
function callerOnly() {
  const storage = new AsyncLocalStorage();
  return storage.run({}, () => {
    const settle = [];
    const pending = Array.from(
      { length: n },
      (_, i) => new Promise((resolve) => settle.push(() => resolve(i))),
    );
    const settleSome = (from) => {
      const to = Math.min(from + 1000, n);
      for (let i = from; i < to; i++) settle[i]();
      if (to < n) setImmediate(settleSome, to);
    };
    setImmediate(settleSome, 0);
    return Promise.all(pending);
  });
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
let finishedChildren = 0;
const counted = flyte.withRunContext({
  cacheDir: process.env.BENCH_HOME ?? ".flyte-bench",
  onEvent: (event) => {
    if (event.type === "action-finished") finishedChildren++;
  },
});
const floorCompletedBefore = pool.completed;
const floorLive = await liveHeap(
  () => Promise.all(Array.from({ length: n }, (_, i) => pool.run(i))),
  () => pool.completed - floorCompletedBefore,
);
const engineLive = await liveHeap(
  () => counted.run(windowed, "inc", n, 0),
  () => finishedChildren,
);
report(
  "fanout.100k",
  "live heap per child, half of them pending (after a full GC)",
  engineLive,
  floorLive,
  "B",
  engineLive / floorLive,
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
const caller = await measure(callerOnly);
report(
  "fanout.100k",
  "heap per pending child, against the caller's own code with AsyncLocalStorage and no engine (no target)",
  engine.heapPerChild,
  caller.heapPerChild,
  "B",
  engine.heapPerChild / caller.heapPerChild,
  "what the engine adds",
);
report(
  "fanout.100k",
  "longest event-loop stall, against the caller's own code with AsyncLocalStorage and no engine (no target)",
  engine.stallMs,
  caller.stallMs,
  "ms",
  engine.stallMs / caller.stallMs,
  "what the engine adds",
);
await pool.destroy();
await flyte.shutdown();
