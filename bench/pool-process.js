// pool.process: the process runtime, sequential and 8 in flight, 1 KB and 1 MB payloads, against
// tinypool's child_process runtime (2 processes) with the same shapes in the same process.
import * as flyte from "flyte-ts";
import { Tinypool } from "tinypool";
import { interleaved, report } from "./common.js";
import { windowed } from "./tasks.js";

const ctx = flyte.withRunContext({ cacheDir: process.env.BENCH_HOME ?? ".flyte-bench" });
const pool = new Tinypool({
  filename: new URL("./tinypool-worker.js", import.meta.url).href,
  runtime: "child_process",
  minThreads: 2,
  maxThreads: 2,
});

async function tinypoolWindow(n, inFlight, payload) {
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next++;
      await pool.run(payload);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

const shapes = [
  { label: "1 KB, sequential", n: 2000, inFlight: 1, size: 1024 },
  { label: "1 KB, 8 in flight", n: 5000, inFlight: 8, size: 1024 },
  { label: "1 MB, 8 in flight", n: 8, inFlight: 8, size: 1024 * 1024 },
];
await ctx.run(windowed, "echoProcess", 200, 8, new Uint8Array(1024));
await tinypoolWindow(200, 8, new Uint8Array(1024));
for (const { label, n, inFlight, size } of shapes) {
  const payload = new Uint8Array(size).fill(7);
  const { engineMs, floorMs } = await interleaved(
    3,
    () => ctx.run(windowed, "echoProcess", n, inFlight, payload),
    () => tinypoolWindow(n, inFlight, payload),
  );
  const e = n / (engineMs / 1000);
  const f = n / (floorMs / 1000);
  report("pool.process", label, e, f, "tasks/s", e / f, ">= 1.0x tinypool");
}
await pool.destroy();
await flyte.shutdown();
