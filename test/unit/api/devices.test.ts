import { describe, expect, it } from "vitest";
import {
  A100_PARTITIONS,
  Device,
  GPU,
  GPU_TYPES,
  type GpuQuantity,
  type GpuType,
  H100_PARTITIONS,
  TPU,
  type TpuType,
  V5P_PARTITIONS,
  V6E_PARTITIONS,
} from "../../../src/api/devices.js";
import { problemsOf } from "../../fixtures/config-problems.js";

describe("Device", () => {
  it("keeps quantity, model, partition and kind", () => {
    const device = new Device({ quantity: 2, device: "L4", partition: "x", kind: "gpu" });
    expect(device).toMatchObject({ quantity: 2, device: "L4", partition: "x", kind: "gpu" });
    expect(Object.isFrozen(device)).toBe(true);
    expect(String(device)).toBe("2 x L4 (x)");
  });

  it("rejects a quantity below one, with the path and what to do", () => {
    const problems = problemsOf(() => new Device({ quantity: 0 }));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe("quantity");
    expect(problems[0]?.message).toMatch(
      /Expected `quantity` to be an integer of 1 or more, got 0/,
    );
  });

  it("lists every invalid option at once", () => {
    const problems = problemsOf(
      () => new Device({ quantity: 1.5, device: "", kind: "fpga" as "gpu" }),
    );
    expect(problems.map((p) => p.path)).toEqual(["quantity", "device", "kind"]);
  });
});

describe("GPU", () => {
  it("builds a GPU device of the given model and count", () => {
    expect(GPU("A100", 2)).toMatchObject({ quantity: 2, device: "A100", kind: "gpu" });
    expect(GPU("H100", 1, "1g.10gb").partition).toBe("1g.10gb");
  });

  it("accepts every listed model and every A100 and H100 partition", () => {
    for (const type of GPU_TYPES) expect(GPU(type, 1).device).toBe(type);
    for (const p of A100_PARTITIONS) expect(GPU("A100", 1, p).partition).toBe(p);
    for (const p of H100_PARTITIONS) expect(GPU("H100", 1, p).partition).toBe(p);
  });

  it("rejects an invalid A100 partition (acceptance case 19)", () => {
    const problems = problemsOf(() => GPU("A100", 1, "invalid_partition"));
    expect(problems).toEqual([
      { path: "partition", message: expect.stringMatching(/^Invalid partition for A100/) },
    ]);
  });

  it("rejects an A100 80G partition that only fits an A100 40GB", () => {
    expect(problemsOf(() => GPU("A100 80G", 1, "1g.5gb"))[0]?.message).toMatch(
      /Invalid partition for A100 80G/,
    );
  });

  it("accepts any partition on models without a partition list", () => {
    expect(GPU("T4", 1, "anything").partition).toBe("anything");
  });

  it("reports an unknown model and a count above 8 together", () => {
    const problems = problemsOf(() => GPU("V100" as GpuType, 9 as GpuQuantity));
    expect(problems.map((p) => p.path)).toEqual(["device", "quantity"]);
    expect(problems[0]?.message).toMatch(/Invalid GPU type/);
  });
});

describe("TPU", () => {
  it("builds one TPU slice of the given generation", () => {
    expect(TPU("V5P", "2x2x1")).toMatchObject({
      quantity: 1,
      device: "V5P",
      partition: "2x2x1",
      kind: "tpu",
    });
    expect(TPU("V6E").partition).toBeUndefined();
  });

  it("accepts each generation's own topologies only", () => {
    for (const p of V5P_PARTITIONS) expect(TPU("V5P", p).partition).toBe(p);
    for (const p of V6E_PARTITIONS) expect(TPU("V6E", p).partition).toBe(p);
    expect(problemsOf(() => TPU("V6E", "2x2x1"))[0]?.path).toBe("partition");
    expect(problemsOf(() => TPU("V5P", "2x2"))[0]?.message).toMatch(/Invalid partition for V5P/);
  });

  it("rejects an unknown generation", () => {
    expect(problemsOf(() => TPU("V4" as TpuType))[0]?.message).toMatch(/Invalid TPU type/);
  });
});
