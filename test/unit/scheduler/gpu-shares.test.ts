// Fractional GPUs (Ray's num_gpus=0.5): the ledger counts shares of a whole GPU in thousandths.
import { describe, expect, it } from "vitest";
import { GPU } from "../../../src/api/devices.js";
import { Resources, type ResourcesOptions } from "../../../src/api/resources.js";
import { InsufficientResourcesError, InvalidConfigError } from "../../../src/errors.js";
import { parseFakeDevices } from "../../../src/scheduler/fake-devices.js";
import type { HostInventory } from "../../../src/scheduler/inventory.js";
import { LocalScheduler } from "../../../src/scheduler/local-scheduler.js";
import type { AdmissionRequest, Lease } from "../../../src/scheduler/scheduler.js";

function host(spec: string): HostInventory {
  const fake = parseFakeDevices(spec);
  return {
    cpus: 8,
    cpuSource: "fake",
    memoryBytes: 16 * 2 ** 30,
    memorySource: "fake",
    gpus: fake.gpus,
    tpus: fake.tpus,
    sources: ["fake"],
    warnings: [],
  };
}

function ask(resources: ResourcesOptions): AdmissionRequest {
  return {
    taskName: "train.fit",
    resources: new Resources(resources),
    maxQueuedTimeMs: undefined,
    signal: new AbortController().signal,
  };
}

/** Admits `request`, reporting whether it was admitted before `settled` resolves. */
function pending(scheduler: LocalScheduler, request: AdmissionRequest) {
  let lease: Lease | undefined;
  const admitted = scheduler.admit(request).then((l) => {
    lease = l;
    return l;
  });
  return {
    admitted,
    get lease() {
      return lease;
    },
  };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("fractional GPU requests", () => {
  it("reads `gpu: 0.5` and GPU(model, 1, { fraction }) as a share of one GPU", () => {
    expect(new Resources({ gpu: 0.5 }).getDevice()).toMatchObject({ quantity: 1, fraction: 0.5 });
    const half = new Resources({ gpu: GPU("H100", 1, { fraction: 0.25 }) }).getDevice();
    expect(half).toMatchObject({ device: "H100", quantity: 1, fraction: 0.25 });
    expect(half?.shareUnits).toBe(250);
    expect(GPU("H100", 1, { fraction: 1 }).fraction).toBeUndefined();
  });

  it("rejects fractions above 1, at or below 0, with a MIG partition or several GPUs, naming the path", () => {
    expect(() => new Resources({ gpu: 1.5 })).toThrow(/gpu.*above 1, ask for a whole number/s);
    expect(() => new Resources({ gpu: -0.5 })).toThrow(InvalidConfigError);
    expect(() => new Resources({ gpu: 0.0001 })).toThrow(/at least 1\/1000/);
    expect(() => GPU("H100", 1, { fraction: 1.5 })).toThrow(/fraction.*above 0 and at most 1/s);
    expect(() => GPU("H100", 1, { fraction: 0 })).toThrow(/fraction/);
    expect(() => GPU("H100", 2, { fraction: 0.5 })).toThrow(/quantity` must be 1/);
    try {
      GPU("H100", 1, { fraction: 2 });
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidConfigError).problems.map((p) => p.path)).toEqual(["fraction"]);
    }
  });

  it("runs at most two 0.5 shares per device on two H100s, and sharers see the same CUDA_VISIBLE_DEVICES", async () => {
    const inventory = host("H100:2");
    const scheduler = new LocalScheduler({ inventory });
    const leases = await Promise.all([0, 1, 2, 3].map(() => scheduler.admit(ask({ gpu: 0.5 }))));
    const byDevice = new Map<string, Lease[]>();
    for (const lease of leases) {
      const id = lease.devices[0]?.id ?? "";
      byDevice.set(id, [...(byDevice.get(id) ?? []), lease]);
      expect(lease.devices[0]?.share).toBe(0.5);
    }
    expect([...byDevice.keys()].sort()).toEqual(inventory.gpus.map((g) => g.uuid).sort());
    for (const [id, sharers] of byDevice) {
      expect(sharers).toHaveLength(2);
      for (const lease of sharers) expect(lease.env.CUDA_VISIBLE_DEVICES).toBe(id);
    }
    expect(scheduler.ledger.shares()).toEqual(
      new Map([
        ["gpu0", 1000],
        ["gpu1", 1000],
      ]),
    );
    // A fifth share waits until one of the four gives its share back.
    const fifth = pending(scheduler, ask({ gpu: 0.5 }));
    await flush();
    expect(fifth.lease).toBeUndefined();
    leases[3]?.release();
    const lease = await fifth.admitted;
    expect(lease.devices[0]?.id).toBe(leases[3]?.devices[0]?.id);
    for (const l of [...leases, lease]) l.release();
    expect(scheduler.usage().devices).toBe(0);
    expect(scheduler.ledger.shares().size).toBe(0);
  });

  it("never places a whole-device request on a partly used GPU: it waits until the device is free", async () => {
    const scheduler = new LocalScheduler({ inventory: host("H100:1") });
    const share = await scheduler.admit(ask({ gpu: 0.25 }));
    const whole = pending(scheduler, ask({ gpu: "H100:1" }));
    await flush();
    expect(whole.lease).toBeUndefined();
    share.release();
    const lease = await whole.admitted;
    expect(lease.devices[0]?.share).toBeUndefined();
    // ...and a share never lands on a device held whole.
    const later = pending(scheduler, ask({ gpu: 0.25 }));
    await flush();
    expect(later.lease).toBeUndefined();
    lease.release();
    (await later.admitted).release();
    expect(scheduler.usage().devices).toBe(0);
  });

  it("packs shares onto the fullest device that fits, keeping whole devices free", async () => {
    const scheduler = new LocalScheduler({ inventory: host("H100:2") });
    const a = await scheduler.admit(ask({ gpu: 0.5 }));
    const b = await scheduler.admit(ask({ gpu: 0.25 }));
    expect(b.devices[0]?.id).toBe(a.devices[0]?.id);
    const whole = await scheduler.admit(ask({ gpu: 1 }));
    expect(whole.devices[0]?.id).not.toBe(a.devices[0]?.id);
    for (const l of [a, b, whole]) l.release();
  });

  it("counts thirds exactly: three 1/3 shares fit on one GPU without float drift", async () => {
    const scheduler = new LocalScheduler({ inventory: host("H100:1") });
    const thirds = await Promise.all(
      [0, 1, 2].map(() => scheduler.admit(ask({ gpu: GPU("H100", 1, { fraction: 1 / 3 }) }))),
    );
    expect(new Set(thirds.map((l) => l.devices[0]?.id)).size).toBe(1);
    for (const l of thirds) l.release();
    expect(scheduler.ledger.shares().size).toBe(0);
  });

  it("keeps MIG slices exclusive: a share needs a whole GPU, and a host of only MIG slices has none", async () => {
    const scheduler = new LocalScheduler({ inventory: host("A100 80G:1,mig=3g.40gb*2") });
    await expect(scheduler.admit(ask({ gpu: 0.5 }))).rejects.toThrow(InsufficientResourcesError);
    await expect(scheduler.admit(ask({ gpu: 0.5 }))).rejects.toThrow(/no whole GPU to share/);
  });
});
