/**
 * worker.replace: how soon the next attempt starts after a worker dies (its body's start minus
 * the death, minus the retry's backoff), against the floor of a bare worker thread started until
 * its first message (what replacing a worker costs at the least, with no task module to load),
 * measured in the same process, interleaved.
 *
 * - one death in a fresh pool, retried after the default 0.5 s backoff;
 * - deaths now and then in a pool that has lost a worker before (it keeps a warm spare);
 * - a flood of calls that all crash once, no backoff: time per death, and the flood's wall time.
 *
 * Run: `npm run build && node --import tsx bench/worker-replacement.ts [floodSize]`.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import * as flyte from "flyte-ts";
import type { RunEvent } from "../src/record/events.js";
import { interleave, report, summary } from "./cache-harness.js";
import { flood, sporadic } from "./crash-tasks.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-bench-replace-"));
const floodSize = Number(process.argv[2] ?? 40);

async function bareWorker(): Promise<number> {
  const started = performance.now();
  const worker = new Worker("require('node:worker_threads').parentPort.postMessage(1)", {
    eval: true,
  });
  await new Promise((resolve) => worker.once("message", resolve));
  const ms = performance.now() - started;
  await worker.terminate();
  return ms;
}

/**
 * Runs `task` and returns, per crashed call, how long after its worker's death (and the retry's
 * backoff) the retry's body started, in order of the calls. Milliseconds.
 */
async function latencies<A extends unknown[]>(
  task: flyte.Task<A, Promise<number[]>>,
  backoffMs: number,
  ...args: A
): Promise<{ each: number[]; wallMs: number }> {
  const deaths = new Map<string, number>();
  const onEvent = (event: RunEvent) => {
    if (event.type === "attempt-finished" && event.attempt === 0 && event.error) {
      deaths.set(event.action, event.at);
    }
  };
  const started = Date.now();
  const run = await flyte.withRunContext({ cacheDir, echoLogs: false, onEvent }).run(task, ...args);
  const wallMs = Date.now() - started;
  const bodies = await run.outputs();
  const children = run.actions.filter((a) => a.parent !== undefined);
  const each = children.map(
    (a, i) => (bodies[i] as number) - (deaths.get(a.id) as number) - backoffMs,
  );
  return { each, wallMs };
}

const one = await interleave(5, bareWorker, async () => {
  const { each } = await latencies(flood, 500, 1, true);
  return each[0] as number;
});
report("worker.replace, first death in a pool", "ms", one, "<= 300 ms");

// The first death of each run has no spare yet: the later ones show what the spare buys.
const later: number[] = [];
const laterFloor: number[] = [];
for (let trial = 0; trial < 2; trial++) {
  laterFloor.push(await bareWorker());
  later.push(...(await latencies(sporadic, 0, 5, 2500)).each.slice(1));
}
report(
  "worker.replace, later deaths (warm spare)",
  "ms",
  { floor: laterFloor, ours: later },
  "<= 300 ms",
);

const floodFloor: number[] = [];
const perDeath: number[] = [];
const walls: number[] = [];
for (let trial = 0; trial < 2; trial++) {
  floodFloor.push(await bareWorker());
  const r = await latencies(flood, 0, floodSize, false);
  perDeath.push(...r.each);
  walls.push(r.wallMs);
}
report(
  `worker.replace, flood of ${floodSize}, per death`,
  "ms",
  { floor: floodFloor, ours: perDeath },
  "—",
);
console.log(
  `${"worker.replace, flood wall".padEnd(40)} ${Math.round(summary(walls).median)} ms for ${floodSize} deaths (${(summary(walls).median / floodSize).toFixed(0)} ms each)`,
);
await flyte.shutdown();
