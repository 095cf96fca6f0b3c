import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { ManualClock } from "flyte-ts/testing";
import { describe, expect, it } from "vitest";
import type { ExecuteRequest, Executor } from "../../../src/execution/executor.js";
import { InlineExecutor } from "../../../src/execution/inline.js";
import { parseFakeDevices } from "../../../src/scheduler/fake-devices.js";
import type { HostInventory } from "../../../src/scheduler/inventory.js";
import { LocalScheduler } from "../../../src/scheduler/local-scheduler.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-scheduling-"));

function host(spec: string, cpus = 8): HostInventory {
  const fake = parseFakeDevices(spec);
  return {
    cpus,
    cpuSource: "fake",
    memoryBytes: 16 * 2 ** 30,
    memorySource: "fake",
    gpus: fake.gpus,
    tpus: fake.tpus,
    sources: ["fake"],
    warnings: [],
  };
}

/** Runs bodies inline, keeping the environment each attempt would have started its process with. */
class RecordingExecutor implements Executor {
  readonly envs: Record<string, string>[] = [];
  readonly #inline = new InlineExecutor();
  execute(request: ExecuteRequest): Promise<unknown> {
    this.envs.push({ ...request.env });
    return this.#inline.execute(request);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const gpuEnv = new flyte.TaskEnvironment({
  name: "sched_gpu",
  resources: new flyte.Resources({ gpu: "H100:2" }),
  envVars: { LOG_LEVEL: "info" },
  runtime: "inline",
});
const cpuEnv = new flyte.TaskEnvironment({
  name: "sched_cpu",
  resources: new flyte.Resources({ cpu: 1 }),
  runtime: "inline",
});
const plainEnv = new flyte.TaskEnvironment({ name: "sched_plain", runtime: "inline" });

const seeDevices = gpuEnv.task(async function seeDevices() {
  const c = flyte.ctx()!;
  return c.devices.map((d) => `${d.kind}:${d.id}`);
});

const leaf = cpuEnv.task(async function leaf(x: number) {
  return x * 2;
});
const middle = cpuEnv.task(async function middle(x: number) {
  const [a, b] = await Promise.all([leaf(x), leaf(x + 1)]);
  return (a ?? 0) + (b ?? 0);
});
const top = cpuEnv.task(async function top(n: number) {
  const parts = await Promise.all(Array.from({ length: n }, (_, i) => middle(i)));
  return parts.reduce((s, p) => s + p, 0);
});

describe("runs on the local scheduler", () => {
  it("shows a task its GPUs in ctx() and starts its worker with the pinning variables", async () => {
    const inventory = host("H100:8");
    const scheduler = new LocalScheduler({ inventory });
    const executor = new RecordingExecutor();
    const run = await new flyte.RunContext(
      { cacheDir },
      { scheduler, executorFor: () => executor },
    ).run(seeDevices);
    const uuids = inventory.gpus.slice(0, 2).map((g) => g.uuid);
    expect(await run.outputs()).toEqual(uuids.map((u) => `gpu:${u}`));
    expect(executor.envs[0]).toEqual({
      LOG_LEVEL: "info",
      CUDA_VISIBLE_DEVICES: uuids.join(","),
      NVIDIA_VISIBLE_DEVICES: uuids.join(","),
    });
    expect(scheduler.usage()).toEqual({ cpuMilli: 0, memoryBytes: 0, devices: 0, cores: 0 });
  });

  it("fails at once, without retrying, when the host can never hold the task", async () => {
    let calls = 0;
    const hungry = gpuEnv.task({ retries: 3 }, async function hungry() {
      calls++;
    });
    const scheduler = new LocalScheduler({ inventory: host("L4:1") });
    const error = await new flyte.RunContext({ cacheDir }, { scheduler })
      .run(hungry)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.InsufficientResourcesError);
    expect((error as Error).message).toMatch(
      /`sched_gpu.hungry` asked for 2 x H100 but this host has none \(1 x NVIDIA L4\)/,
    );
    expect(calls).toBe(0);
  });

  it("answers a cache hit without admission, even when the devices are all taken", async () => {
    const env = new flyte.TaskEnvironment({
      name: "sched_cached",
      resources: new flyte.Resources({ gpu: 1 }),
      cache: "auto",
      runtime: "inline",
    });
    const cached = env.task(async function cached(x: number) {
      return x + 1;
    });
    const scheduler = new LocalScheduler({ inventory: host("H100:1") });
    const engine = { scheduler };
    await new flyte.RunContext({ cacheDir }, engine).run(cached, 1);
    const holder = await scheduler.admit({
      taskName: "other",
      resources: new flyte.Resources({ gpu: 1 }),
      maxQueuedTimeMs: undefined,
      signal: new AbortController().signal,
    });
    const again = await new flyte.RunContext({ cacheDir }, engine).run(cached, 1);
    expect(await again.outputs()).toBe(2);
    holder.release();
  });

  it("lends a waiting parent's CPU to its children, so nested fan-out on one CPU finishes", async () => {
    const scheduler = new LocalScheduler({ inventory: host("", 1) });
    const run = await new flyte.RunContext({ cacheDir }, { scheduler }).run(top, 4);
    // middle(i) = 2i + 2(i+1) = 4i + 2 → 2 + 6 + 10 + 14
    expect(await run.outputs()).toBe(32);
    expect(scheduler.usage()).toEqual({ cpuMilli: 0, memoryBytes: 0, devices: 0, cores: 0 });
  });

  /** A manual clock and a two-GPU scheduler whose GPUs another attempt holds. */
  async function bothGpusHeld() {
    const clock = new ManualClock();
    const scheduler = new LocalScheduler({ inventory: host("H100:2") });
    const holder = await scheduler.admit({
      taskName: "other",
      resources: new flyte.Resources({ gpu: 2 }),
      maxQueuedTimeMs: undefined,
      signal: new AbortController().signal,
    });
    return { clock, scheduler, holder };
  }

  it("fails an attempt that waits past its maxQueuedTime with TaskTimeoutError", async () => {
    const waits = gpuEnv.task(
      { timeout: new flyte.Timeout({ maxQueuedTime: 60 }) },
      async function waits() {
        return "ran";
      },
    );
    const { clock, scheduler, holder } = await bothGpusHeld();
    const running = new flyte.RunContext({ cacheDir, clock }, { scheduler }).run(waits);
    expect(await clock.nextTimer()).toBe(60_000);
    clock.advance(60_000);
    await expect(running).rejects.toThrow(/waited past its maxQueuedTime of 1m00s/);
    expect(scheduler.queued).toBe(0);
    holder.release();
  });

  it("measures maxRuntime from admission, so time queued for a GPU does not count", async () => {
    const patient = gpuEnv.task(
      { timeout: new flyte.Timeout({ maxRuntime: 10, maxQueuedTime: 600 }) },
      async function patient() {
        return "ran";
      },
    );
    const { clock, scheduler, holder } = await bothGpusHeld();
    const running = new flyte.RunContext({ cacheDir, clock }, { scheduler }).run(patient);
    expect(await clock.nextTimer()).toBe(600_000);
    clock.advance(30_000);
    holder.release();
    const run = await running;
    expect(await run.outputs()).toBe("ran");
  });

  it("pins each attempt to cores of its own with pinCpus and shows them in ctx()", async () => {
    const cores = plainEnv.task(async function cores() {
      return flyte.ctx()!.cpus;
    });
    const fan = plainEnv.task(async function fan() {
      return Promise.all([cores(), cores()]);
    });
    const scheduler = new LocalScheduler({ inventory: host("", 4) });
    const run = await new flyte.RunContext({ cacheDir, pinCpus: true }, { scheduler }).run(fan);
    const [a, b] = await run.outputs();
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(a?.[0]).not.toBe(b?.[0]);
    expect(scheduler.usage().cores).toBe(0);
  });

  it("rejects a pinCpus that is not a boolean", () => {
    expect(() => flyte.withRunContext({ pinCpus: "yes" as unknown as boolean })).toThrow(
      /Expected `pinCpus` to be true or false/,
    );
  });
});
