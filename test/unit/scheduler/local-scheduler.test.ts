import { describe, expect, it } from "vitest";
import { Device, GPU, TPU } from "../../../src/api/devices.js";
import { Resources, type ResourcesOptions } from "../../../src/api/resources.js";
import { InsufficientResourcesError, TaskTimeoutError } from "../../../src/errors.js";
import { ManualClock } from "../../../src/internal/time.js";
import { parseFakeDevices } from "../../../src/scheduler/fake-devices.js";
import type { HostInventory } from "../../../src/scheduler/inventory.js";
import { LocalScheduler } from "../../../src/scheduler/local-scheduler.js";
import type { AdmissionRequest } from "../../../src/scheduler/scheduler.js";

function host(spec: string, cpus = 8, memoryGiB = 16): HostInventory {
  const fake = parseFakeDevices(spec);
  return {
    cpus,
    cpuSource: "fake",
    memoryBytes: memoryGiB * 2 ** 30,
    memorySource: "fake",
    gpus: fake.gpus,
    tpus: fake.tpus,
    sources: ["fake"],
    warnings: [],
  };
}

function ask(resources: ResourcesOptions, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    taskName: "train.fit",
    resources: new Resources(resources),
    maxQueuedTimeMs: undefined,
    signal: new AbortController().signal,
    ...extra,
  };
}

const nothingHeld = { cpuMilli: 0, memoryBytes: 0, devices: 0, cores: 0 };

describe("LocalScheduler admission", () => {
  it("gives each attempt distinct GPUs, pinned by uuid, and takes them back on release", async () => {
    const inventory = host("H100:8");
    const scheduler = new LocalScheduler({ inventory });
    const a = await scheduler.admit(ask({ gpu: "H100:2" }));
    const b = await scheduler.admit(ask({ gpu: 1 }));
    const uuids = inventory.gpus.map((g) => g.uuid);
    expect(a.devices.map((d) => d.id)).toEqual(uuids.slice(0, 2));
    expect(b.devices.map((d) => d.id)).toEqual(uuids.slice(2, 3));
    expect(a.env).toEqual({
      CUDA_VISIBLE_DEVICES: `${uuids[0]},${uuids[1]}`,
      NVIDIA_VISIBLE_DEVICES: `${uuids[0]},${uuids[1]}`,
    });
    expect(scheduler.usage().devices).toBe(3);
    a.release();
    a.release();
    b.release();
    expect(scheduler.usage()).toEqual(nothingHeld);
  });

  it("admits a request without resources at once, without touching the ledger", async () => {
    const scheduler = new LocalScheduler({ inventory: host("", 1) });
    const lease = await scheduler.admit({ ...ask({}), resources: undefined });
    expect(lease.devices).toEqual([]);
    expect(lease.env).toEqual({});
  });

  it("fails at once, naming what is missing and what the host has, when it can never fit", async () => {
    const scheduler = new LocalScheduler({ inventory: host("L4:1", 2, 4) });
    await expect(scheduler.admit(ask({ gpu: "H100:2" }))).rejects.toThrow(
      new InsufficientResourcesError(
        'Task `train.fit` asked for 2 x H100 but this host has none (1 x NVIDIA L4). Lower its `Resources`, or run it where the resources are (mode "hybrid").',
      ),
    );
    await expect(scheduler.admit(ask({ cpu: 3, memory: "8Gi" }))).rejects.toThrow(
      /3 CPUs but this host has 2; and 8.0 GiB of memory but this host has 4.0 GiB/,
    );
    await expect(scheduler.admit(ask({ gpu: 2 }))).rejects.toThrow(
      /2 x any GPU but this host has 1/,
    );
    expect(scheduler.queued).toBe(0);
  });

  it("assigns MIG slices by profile, one per attempt, and never the MIG GPU whole", async () => {
    const inventory = host("A100 80G:1,mig=1g.10gb*2+3g.40gb*1");
    const scheduler = new LocalScheduler({ inventory });
    const slice = await scheduler.admit(ask({ gpu: GPU("A100 80G", 1, "3g.40gb") }));
    const mig = inventory.gpus[0]?.mig.find((m) => m.profile === "3g.40gb");
    expect(slice.devices).toEqual([
      {
        kind: "mig",
        vendor: "nvidia",
        index: 0,
        id: mig?.uuid,
        name: "NVIDIA A100-SXM4-80GB",
        partition: "3g.40gb",
      },
    ]);
    expect(slice.env.CUDA_VISIBLE_DEVICES).toBe(mig?.uuid);
    await expect(scheduler.admit(ask({ gpu: "A100 80G:1" }))).rejects.toThrow(
      /1 x A100 80G but this host has none \(2 x 1g.10gb MIG slices of NVIDIA A100-SXM4-80GB, 1 x 3g.40gb MIG slices/,
    );
    await expect(scheduler.admit(ask({ gpu: GPU("A100 80G", 2, "1g.10gb") }))).rejects.toThrow(
      /only one MIG slice/,
    );
    const any = await scheduler.admit(
      ask({ gpu: new Device({ quantity: 1, partition: "1g.10gb" }) }),
    );
    expect(any.devices[0]?.partition).toBe("1g.10gb");
    slice.release();
    any.release();
    expect(scheduler.usage()).toEqual(nothingHeld);
  });

  it("pins TPU slices with TPU_VISIBLE_CHIPS and the chip bounds", async () => {
    const scheduler = new LocalScheduler({ inventory: host("V5P:4") });
    const slice = await scheduler.admit(ask({ gpu: TPU("V5P", "2x2x1") }));
    expect(slice.env).toEqual({
      TPU_VISIBLE_CHIPS: "0,1,2,3",
      TPU_CHIPS_PER_PROCESS_BOUNDS: "2,2,1",
      TPU_PROCESS_BOUNDS: "1,1,1",
    });
    slice.release();
    const one = await scheduler.admit(ask({ gpu: new Device({ quantity: 1, kind: "tpu" }) }));
    expect(one.env).toMatchObject({
      TPU_VISIBLE_CHIPS: "0",
      TPU_CHIPS_PER_PROCESS_BOUNDS: "1,1,1",
    });
    await expect(scheduler.admit(ask({ gpu: TPU("V6E") }))).rejects.toThrow(
      InsufficientResourcesError,
    );
  });

  it("pins AMD GPUs with ROCR_VISIBLE_DEVICES and HIP_VISIBLE_DEVICES", async () => {
    const scheduler = new LocalScheduler({ inventory: host("MI300X:2") });
    await scheduler.admit(ask({ gpu: 1 }));
    const second = await scheduler.admit(ask({ gpu: 1 }));
    expect(second.env).toEqual({ ROCR_VISIBLE_DEVICES: "1", HIP_VISIBLE_DEVICES: "1" });
  });

  it("counts fractional CPUs and makes the next attempt wait until some are given back", async () => {
    const scheduler = new LocalScheduler({ inventory: host("", 2) });
    const leases = await Promise.all([1, 2, 3, 4].map(() => scheduler.admit(ask({ cpu: "500m" }))));
    const fifth = scheduler.admit(ask({ cpu: 0.5 }));
    expect(scheduler.queued).toBe(1);
    leases[0]?.release();
    expect(scheduler.queued).toBe(0);
    (await fifth).release();
    for (const lease of leases) lease.release();
    expect(scheduler.usage()).toEqual(nothingHeld);
  });
});

describe("LocalScheduler fairness", () => {
  it("does not let small GPU requests overtake a waiting large one", async () => {
    const scheduler = new LocalScheduler({ inventory: host("H100:4") });
    const held = await Promise.all([1, 2, 3].map(() => scheduler.admit(ask({ gpu: 1 }))));
    const large = scheduler.admit(ask({ gpu: 2 }));
    const small = scheduler.admit(ask({ gpu: 1 }));
    // One GPU is free, but the small request waits behind the large one.
    expect(scheduler.queued).toBe(2);
    expect(scheduler.usage().devices).toBe(3);
    held[0]?.release();
    expect(scheduler.queued).toBe(1);
    expect((await large).devices).toHaveLength(2);
    held[1]?.release();
    expect((await small).devices).toHaveLength(1);
  });

  it("lets a request for other kinds of resource go ahead of a blocked GPU request", async () => {
    const scheduler = new LocalScheduler({ inventory: host("H100:1", 4) });
    const holder = await scheduler.admit(ask({ gpu: 1 }));
    const waiting = scheduler.admit(ask({ gpu: 1 }));
    const cpuOnly = await scheduler.admit(ask({ cpu: 1 }));
    expect(cpuOnly.devices).toEqual([]);
    expect(scheduler.queued).toBe(1);
    holder.release();
    (await waiting).release();
    cpuOnly.release();
    expect(scheduler.usage()).toEqual(nothingHeld);
  });

  it("fails a waiter past its maxQueuedTime with TaskTimeoutError and frees its place", async () => {
    const clock = new ManualClock();
    const scheduler = new LocalScheduler({ inventory: host("H100:1") });
    const holder = await scheduler.admit(ask({ gpu: 1 }));
    const waiting = scheduler.admit(ask({ gpu: 1 }, { maxQueuedTimeMs: 30_000, clock }));
    const behind = scheduler.admit(ask({ gpu: 1 }));
    expect(await clock.nextTimer()).toBe(30_000);
    clock.advance(30_000);
    await expect(waiting).rejects.toThrow(TaskTimeoutError);
    await expect(waiting).rejects.toThrow(/waited past its maxQueuedTime of 30.0s for 1 x any GPU/);
    expect(scheduler.queued).toBe(1);
    holder.release();
    (await behind).release();
    expect(scheduler.usage()).toEqual(nothingHeld);
  });

  it("removes a waiter whose attempt is aborted, rejecting with the abort reason", async () => {
    const scheduler = new LocalScheduler({ inventory: host("H100:1") });
    const holder = await scheduler.admit(ask({ gpu: 1 }));
    const abort = new AbortController();
    const waiting = scheduler.admit(ask({ gpu: 1 }, { signal: abort.signal }));
    abort.abort(new Error("run cancelled"));
    await expect(waiting).rejects.toThrow("run cancelled");
    expect(scheduler.queued).toBe(0);
    holder.release();
    expect(scheduler.usage()).toEqual(nothingHeld);
  });
});

describe("LocalScheduler lending and pinning", () => {
  it("lends a waiting parent's CPU to its children and takes it back at once", async () => {
    const scheduler = new LocalScheduler({ inventory: host("H100:1", 1) });
    const parent = await scheduler.admit(ask({ cpu: 1, gpu: 1 }));
    const child = scheduler.admit(ask({ cpu: 1 }));
    expect(scheduler.queued).toBe(1);
    parent.lend();
    parent.lend();
    const running = await child;
    expect(scheduler.usage()).toMatchObject({ cpuMilli: 1000, devices: 1 });
    parent.reclaim();
    expect(scheduler.usage().cpuMilli).toBe(1000);
    parent.reclaim();
    // The resumed parent does not wait: the host is over-committed until the child ends.
    expect(scheduler.usage().cpuMilli).toBe(2000);
    running.release();
    parent.release();
    expect(scheduler.usage()).toEqual(nothingHeld);
  });

  it("pins attempts to distinct whole cores when asked", async () => {
    const scheduler = new LocalScheduler({ inventory: host("", 4) });
    const a = await scheduler.admit(ask({ cpu: "1500m" }, { pinCpus: true }));
    const b = await scheduler.admit({ ...ask({}), resources: undefined, pinCpus: true });
    expect(a.cpus).toEqual([0, 1]);
    expect(b.cpus).toEqual([2]);
    expect(a.env).toEqual({ FLYTE_TS_PIN_CPUS: "0,1" });
    a.release();
    b.release();
    expect(scheduler.usage()).toEqual(nothingHeld);
  });
});
