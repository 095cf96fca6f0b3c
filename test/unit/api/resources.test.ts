import { describe, expect, it } from "vitest";
import { Device, GPU, TPU } from "../../../src/api/devices.js";
import {
  kubernetesQuantity,
  parseCpu,
  parseQuantityBytes,
  Resources,
  type ResourcesOptions,
} from "../../../src/api/resources.js";
import { InvalidConfigError } from "../../../src/errors.js";
import { problemsOf } from "../../fixtures/config-problems.js";

const loose = (options: Record<string, unknown>) => options as ResourcesOptions;

describe("parseCpu", () => {
  it.each([
    [1, 1],
    [0.5, 0.5],
    ["1", 1],
    ["0.5", 0.5],
    ["500m", 0.5],
    ["250m", 0.25],
    ["2k", 2000],
    ["1e1", 10],
    [".5", 0.5],
  ])("reads %j as %d cores", (input, cores) => {
    expect(parseCpu(input)).toBe(cores);
  });

  it("rejects text that is not a quantity with a TypeError naming the value", () => {
    expect(() => parseCpu("two")).toThrow(TypeError);
    expect(() => parseCpu("two")).toThrow(/Expected `cpu` to be .*got "two"/);
    expect(() => parseCpu(Number.NaN)).toThrow(TypeError);
  });

  it("rejects a negative amount with a RangeError", () => {
    expect(() => parseCpu(-1)).toThrow(RangeError);
    expect(() => parseCpu("-500m")).toThrow(RangeError);
  });
});

describe("parseQuantityBytes", () => {
  it.each([
    ["1Ki", 1024],
    ["1Mi", 2 ** 20],
    ["4Gi", 4 * 2 ** 30],
    ["1Ti", 2 ** 40],
    ["1Pi", 2 ** 50],
    ["1Ei", 2 ** 60],
    ["1k", 1000],
    ["500M", 5e8],
    ["2G", 2e9],
    ["1T", 1e12],
    ["1P", 1e15],
    ["1E", 1e18],
    ["1e3", 1000],
    ["1E3", 1000],
    ["128974848", 128974848],
    ["1.5Gi", 1.5 * 2 ** 30],
    [2048, 2048],
    ["0.5", 1],
  ])("reads %j as %d bytes", (input, bytes) => {
    expect(parseQuantityBytes(input)).toBe(bytes);
  });

  it("rejects milli-bytes and says which unit was probably meant", () => {
    expect(() => parseQuantityBytes("500m")).toThrow(/"500M" or "500Mi"/);
  });

  it.each([
    ["1KiB", 1024],
    ["512MiB", 512 * 2 ** 20],
    ["1GiB", 2 ** 30],
    ["1TiB", 2 ** 40],
    ["1.5gib", 1.5 * 2 ** 30],
    ["1KB", 1000],
    ["500MB", 5e8],
    ["2GB", 2e9],
    ["10 GiB", 10 * 2 ** 30],
  ])("reads flyte's byte-unit spelling %j as %d bytes", (input, bytes) => {
    expect(parseQuantityBytes(input)).toBe(bytes);
  });

  it("says what to write for a bare K", () => {
    expect(() => parseQuantityBytes("2K")).toThrow(/"2Ki" .* or "2k"/);
  });

  it("rejects a negative amount", () => {
    expect(() => parseQuantityBytes("-1Gi")).toThrow(RangeError);
  });
});

describe("kubernetesQuantity", () => {
  it.each([
    ["1GiB", "1Gi"],
    ["512MiB", "512Mi"],
    ["10GiB", "10Gi"],
    ["2GB", "2G"],
    ["1KB", "1k"],
    ["1kib", "1Ki"],
    ["4Gi", "4Gi"],
    ["500M", "500M"],
    ["auto", "auto"],
  ])("spells %j as the Kubernetes quantity %j", (input, quantity) => {
    expect(kubernetesQuantity(input)).toBe(quantity);
  });
});

describe("Resources", () => {
  it("accepts the seed's own example, memory 1GiB and disk 10GiB, and counts them in bytes", () => {
    const resources = new Resources({ cpu: 1, memory: "1GiB", gpu: "T4:1", disk: "10GiB" });
    expect(resources.memoryRequestBytes).toBe(2 ** 30);
    expect(resources.diskBytes).toBe(10 * 2 ** 30);
    expect(resources.memory).toBe("1GiB");
  });

  it("keeps the options as given and parses them for the scheduler", () => {
    const r = new Resources({ cpu: [1, "2"], memory: ["1Gi", "2Gi"], disk: "10Gi", shm: "64Mi" });
    expect(r.cpu).toEqual([1, "2"]);
    expect(r).toMatchObject({
      cpuRequest: 1,
      cpuLimit: 2,
      memoryRequestBytes: 2 ** 30,
      memoryLimitBytes: 2 ** 31,
      diskBytes: 10 * 2 ** 30,
      shmBytes: 64 * 2 ** 20,
    });
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen(r.cpu)).toBe(true);
  });

  it("treats a single value as a request with no limit", () => {
    const r = new Resources({ cpu: "500m", memory: "512Mi" });
    expect([r.cpuRequest, r.cpuLimit]).toEqual([0.5, undefined]);
    expect([r.memoryRequestBytes, r.memoryLimitBytes]).toEqual([512 * 2 ** 20, undefined]);
  });

  it("asks for nothing when built without options", () => {
    const r = new Resources();
    expect(r.cpuRequest).toBeUndefined();
    expect(r.getDevice()).toBeNull();
    expect(r.getSharedMemory()).toBeNull();
  });

  it("accepts every cpu spelling of acceptance case 18", () => {
    for (const cpu of ["1", 1, ["1", "2"], [1, 2], 0.5] as const) {
      expect(() => new Resources({ cpu })).not.toThrow();
    }
  });

  it("turns gpu values into devices (acceptance case 18)", () => {
    expect(new Resources({ gpu: 1 }).getDevice()).toMatchObject({
      quantity: 1,
      device: undefined,
    });
    expect(new Resources({ gpu: "A100:2" }).getDevice()).toMatchObject({
      quantity: 2,
      device: "A100",
      kind: "gpu",
    });
    expect(new Resources({ gpu: "A100 80G:8" }).getDevice()?.device).toBe("A100 80G");
    const gpu = GPU("T4", 1);
    const tpu = TPU("V5P", "2x2x1");
    expect(new Resources({ gpu }).getDevice()).toBe(gpu);
    expect(new Resources({ gpu: tpu }).getDevice()).toBe(tpu);
  });

  it("treats gpu 0 as no GPU instead of failing as upstream does", () => {
    expect(new Resources({ gpu: 0 }).getDevice()).toBeNull();
  });

  it.each(["InvalidGPU:1", "A100", "A100:invalid_quantity", "A100:9", "A100:0", ":1"])(
    "rejects the gpu string %j, listing the valid formats",
    (gpu) => {
      const problems = problemsOf(() => new Resources({ gpu }));
      expect(problems).toHaveLength(1);
      expect(problems[0]?.path).toBe("gpu");
      expect(problems[0]?.message).toMatch(/Expected `gpu` to be .*"A100 80G".*"A100:2"/);
    },
  );

  it("rejects a negative or fractional gpu count", () => {
    expect(problemsOf(() => new Resources({ gpu: -1 }))[0]?.path).toBe("gpu");
    expect(problemsOf(() => new Resources({ gpu: 1.5 }))[0]?.path).toBe("gpu");
  });

  it("returns an empty string for shm auto (acceptance case 18)", () => {
    const r = new Resources({ shm: "auto" });
    expect(r.getSharedMemory()).toBe("");
    expect(r.shmBytes).toBe("auto");
    expect(new Resources({ shm: "1Gi" }).getSharedMemory()).toBe("1Gi");
  });

  it("rejects pairs that are not pairs (acceptance case 18)", () => {
    const problems = problemsOf(
      () => new Resources(loose({ cpu: [1, 2, 3], memory: ["1Gi", "2Gi", "3Gi"] })),
    );
    expect(problems.map((p) => p.path)).toEqual(["cpu", "memory"]);
    expect(problems[0]?.message).toMatch(/A pair is \[request, limit\]/);
  });

  it("rejects a request above its limit", () => {
    const problems = problemsOf(() => new Resources({ cpu: [4, 2], memory: ["2Gi", "1Gi"] }));
    expect(problems.map((p) => p.path)).toEqual(["cpu", "memory"]);
    expect(problems[0]?.message).toMatch(/request \(4\) is above its limit \(2\)/);
  });

  it("rejects negative amounts", () => {
    const problems = problemsOf(() => new Resources({ cpu: -1, memory: "-1Gi" }));
    expect(problems.map((p) => p.path)).toEqual(["cpu", "memory"]);
  });

  it("lists every problem with its path in one error", () => {
    let error: unknown;
    try {
      new Resources(loose({ cpu: {}, memory: 4096, gpu: "H100", disk: "lots", shm: 5, gpus: 1 }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConfigError);
    const config = error as InvalidConfigError;
    expect(config.subject).toBe("Resources");
    expect(config.problems.map((p) => p.path)).toEqual([
      "gpus",
      "cpu",
      "memory",
      "gpu",
      "disk",
      "shm",
    ]);
    expect(config.problems[1]?.message).toBe(
      'Expected `cpu` to be a number, a Kubernetes quantity string such as "500m", or a [request, limit] pair, got an object.',
    );
    expect(config.problems[2]?.message).toMatch(/A bare number is ambiguous/);
    expect(config.message).toMatch(/Invalid Resources \(6 problems\)/);
  });

  it("names the element of a pair that is wrong", () => {
    expect(problemsOf(() => new Resources({ cpu: [1, "x"] }))[0]?.path).toBe("cpu[1]");
  });

  it("returns the same instance from from() and builds one from options", () => {
    const r = new Resources({ cpu: 1 });
    expect(Resources.from(r)).toBe(r);
    expect(Resources.from({ cpu: 2 }).cpuRequest).toBe(2);
  });

  it("accepts a Device built by hand", () => {
    const device = new Device({ quantity: 3 });
    expect(new Resources({ gpu: device }).getDevice()).toBe(device);
  });
});
