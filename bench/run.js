// `npm run bench`: runs every benchmark in its own process, one after another, and prints each
// result line (JSON: id, what, engine, floor, ratio, target). Needs `npm run build` first.
// The runs and caches go to a fresh folder, removed after (BENCH_HOME names one to keep): a
// runs.db grown by earlier suites (gigabytes of 100k-child runs) would weigh on the figures.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const benches = [
  "dispatch-seq.js",
  "dispatch-throughput.js",
  "fanout-100k.js",
  "map-batched.js",
  "reuse-vs-fresh.js",
  "io-fanout.js",
  "pool-process.js",
  "coldstart.js",
  // TypeScript benchmarks (run through tsx): the cache, the scheduler, the observers.
  "cache-hit.ts",
  "cache-write.ts",
  "run-store-write.ts",
  "cache-key-large.ts",
  "gpu-alloc.ts",
  "observe.ts",
  "call-stages.ts",
  "worker-replacement.ts",
];
const only = process.argv.slice(2);
const home = process.env.BENCH_HOME ?? mkdtempSync(join(tmpdir(), "flyte-bench-"));
let failed = 0;
for (const file of benches) {
  if (only.length > 0 && !only.some((name) => file.includes(name))) continue;
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      "--expose-gc",
      ...(file.endsWith(".ts") ? ["--import", "tsx"] : []),
      fileURLToPath(new URL(file, import.meta.url)),
    ],
    {
      stdio: "inherit",
      env: { ...process.env, BENCH_HOME: home },
    },
  );
  if (r.status !== 0) failed++;
  console.error(
    `# ${file}: ${r.status === 0 ? "done" : `failed (${r.status ?? r.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}
if (process.env.BENCH_HOME === undefined) rmSync(home, { recursive: true, force: true });
process.exitCode = failed === 0 ? 0 : 1;
