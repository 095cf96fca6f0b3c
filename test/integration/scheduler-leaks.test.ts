import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { fakeHostScheduler } from "../fixtures/gpu-lease.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-leaks-"));
const scheduler = fakeHostScheduler("H100:8");

/** A seeded generator, so a failure replays. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(4);
const holding = new Set<string>();
const seen = { overlaps: 0, maxHeld: 0, ok: 0, failed: 0, timedOut: 0, crashed: 0 };

/** The body every GPU task runs: holds its devices, then succeeds, fails, hangs or crashes. */
function work(): Promise<string> {
  const c = flyte.ctx()!;
  const ids = c.devices.map((d) => d.id);
  for (const id of ids) {
    if (holding.has(id)) seen.overlaps++;
    holding.add(id);
  }
  seen.maxHeld = Math.max(seen.maxHeld, holding.size);
  const letGo = () => {
    for (const id of ids) holding.delete(id);
  };
  const roll = random();
  if (roll < 0.05) {
    letGo();
    seen.crashed++;
    // A synchronous throw: the body dies before returning a promise.
    throw new RangeError("crashed");
  }
  return new Promise<string>((resolve, reject) => {
    if (roll < 0.15) {
      // Hangs until its maxRuntime aborts it (or at once if the run was cancelled already: a
      // listener added to an aborted signal never fires).
      const stop = () => {
        letGo();
        seen.timedOut++;
        reject(c.signal.reason);
      };
      if (c.signal.aborted) stop();
      else c.signal.addEventListener("abort", stop);
      return;
    }
    setImmediate(() => {
      letGo();
      if (roll < 0.3) {
        seen.failed++;
        reject(new Error("failed"));
      } else {
        seen.ok++;
        resolve(c.devices.map((d) => d.id).join(","));
      }
    });
  });
}

const timeout = new flyte.Timeout({ maxRuntime: "5ms" });
const one = new flyte.TaskEnvironment({
  name: "leak_one",
  resources: new flyte.Resources({ gpu: "H100:1", cpu: "250m" }),
  runtime: "inline",
});
const two = new flyte.TaskEnvironment({
  name: "leak_two",
  resources: new flyte.Resources({ gpu: 2, memory: "1Gi" }),
  runtime: "inline",
});
const oneGpu = one.task(
  { retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }), timeout },
  async function oneGpu(_i: number) {
    return work();
  },
);
const twoGpus = two.task({ timeout }, async function twoGpus(_i: number) {
  return work();
});
const driver = new flyte.TaskEnvironment({ name: "leak_driver", runtime: "inline" });
const fanOut = driver.task(async function fanOut(n: number) {
  const inputs = Array.from({ length: n }, (_, i) => i);
  // 64 tasks in flight: a third ask for 2 GPUs, the rest for 1.
  const results = await Promise.all([
    flyte.map(
      twoGpus,
      inputs.filter((i) => i % 3 === 0),
      { concurrency: 22 },
    ),
    flyte.map(
      oneGpu,
      inputs.filter((i) => i % 3 !== 0),
      { concurrency: 42 },
    ),
  ]);
  return results.flat().filter((r) => !(r instanceof Error)).length;
});

describe("the scheduler under 10k GPU tasks that fail, time out and crash", () => {
  it("never gives one device to two running tasks and leaks nothing", {
    timeout: 180_000,
  }, async () => {
    const run = await new flyte.RunContext({ cacheDir, name: "leaks" }, { scheduler }).run(
      fanOut,
      10_000,
    );
    const succeeded = await run.outputs();
    expect(seen.overlaps).toBe(0);
    expect(seen.maxHeld).toBeLessThanOrEqual(8);
    expect(seen.maxHeld).toBeGreaterThan(1);
    // Every outcome happened many times.
    expect(Math.min(seen.ok, seen.failed, seen.timedOut, seen.crashed)).toBeGreaterThan(100);
    expect(succeeded).toBeGreaterThan(4000);
    expect(scheduler.usage()).toEqual({ cpuMilli: 0, memoryBytes: 0, devices: 0, cores: 0 });
    expect(scheduler.queued).toBe(0);
    expect(holding.size).toBe(0);
  });

  it("gives everything back when the run is cancelled with tasks running and queued", async () => {
    const abort = new AbortController();
    const started = { n: 0 };
    const slow = one.task(async function slow(_i: number) {
      if (++started.n === 20) abort.abort();
      return work();
    });
    const cancelled = driver.task(async function cancelled() {
      return flyte.map(
        slow,
        Array.from({ length: 200 }, (_, i) => i),
        { concurrency: 64 },
      );
    });
    const error = await new flyte.RunContext({ cacheDir, signal: abort.signal }, { scheduler })
      .run(cancelled)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.RunCancelledError);
    expect(scheduler.usage()).toEqual({ cpuMilli: 0, memoryBytes: 0, devices: 0, cores: 0 });
    expect(scheduler.queued).toBe(0);
  });
});
