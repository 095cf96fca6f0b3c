import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { InvalidConfigError } from "../../../src/errors.js";
import { parseRocmSmiJson, tpuTypeFrom } from "../../../src/scheduler/accelerators.js";
import { parseFakeDevices } from "../../../src/scheduler/fake-devices.js";
import {
  cgroupCpuLimit,
  cgroupMemoryLimit,
  detectInventory,
} from "../../../src/scheduler/inventory.js";
import { matchesModel, matchesTpu } from "../../../src/scheduler/models.js";

const fixtures = fileURLToPath(new URL("../../fixtures/devices/", import.meta.url));

async function folder(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "flyte-ts-inv-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(root, name, ".."), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}

describe("cgroup limits", () => {
  it("reads a cgroup v2 CPU quota as fractional cores", async () => {
    expect(await cgroupCpuLimit(await folder({ "cpu.max": "150000 100000\n" }))).toBe(1.5);
    expect(await cgroupCpuLimit(await folder({ "cpu.max": "max 100000\n" }))).toBeUndefined();
  });

  it("reads a cgroup v1 CPU quota", async () => {
    const root = await folder({
      "cpu/cpu.cfs_quota_us": "200000\n",
      "cpu/cpu.cfs_period_us": "100000\n",
    });
    expect(await cgroupCpuLimit(root)).toBe(2);
    const unlimited = await folder({
      "cpu/cpu.cfs_quota_us": "-1\n",
      "cpu/cpu.cfs_period_us": "100000\n",
    });
    expect(await cgroupCpuLimit(unlimited)).toBeUndefined();
  });

  it("reads memory.max, and treats max and v1's huge number as no limit", async () => {
    expect(await cgroupMemoryLimit(await folder({ "memory.max": "4294967296\n" }))).toBe(2 ** 32);
    expect(await cgroupMemoryLimit(await folder({ "memory.max": "max\n" }))).toBeUndefined();
    const v1 = await folder({ "memory/memory.limit_in_bytes": "9223372036854771712\n" });
    expect(await cgroupMemoryLimit(v1)).toBeUndefined();
  });

  it("lets the cgroup lower what the OS reports", async () => {
    const root = await folder({ "cpu.max": "50000 100000\n", "memory.max": "1048576\n" });
    const host = await detectInventory({
      cgroupRoot: root,
      env: { FLYTE_TS_FAKE_DEVICES: "L4:1" },
    });
    expect(host).toMatchObject({
      cpus: Math.min(0.5, availableParallelism()),
      cpuSource: "cgroup",
      memoryBytes: 1048576,
      memorySource: "cgroup",
    });
  });
});

describe("FLYTE_TS_FAKE_DEVICES", () => {
  it("describes eight H100s with distinct stable uuids", () => {
    const fake = parseFakeDevices("H100:8");
    expect(fake.gpus).toHaveLength(8);
    expect(new Set(fake.gpus.map((g) => g.uuid)).size).toBe(8);
    expect(fake.gpus[3]).toMatchObject({
      vendor: "nvidia",
      index: 3,
      name: "NVIDIA H100 80GB HBM3",
      migEnabled: false,
    });
    expect(parseFakeDevices("H100:8").gpus[3]?.uuid).toBe(fake.gpus[3]?.uuid);
  });

  it("splits GPUs into MIG slices", () => {
    const fake = parseFakeDevices("A100 80G:2,mig=1g.10gb*7");
    expect(fake.gpus.map((g) => g.mig.length)).toEqual([7, 7]);
    expect(fake.gpus[1]?.mig[6]).toMatchObject({ profile: "1g.10gb", memoryBytes: 10 * 2 ** 30 });
    expect(fake.gpus[1]?.mig[6]?.uuid).toMatch(/^MIG-/);
    const mixed = parseFakeDevices("A100 80G:1,mig=3g.40gb*1+1g.10gb*4");
    expect(mixed.gpus[0]?.mig.map((m) => m.profile)).toEqual([
      "3g.40gb",
      "1g.10gb",
      "1g.10gb",
      "1g.10gb",
      "1g.10gb",
    ]);
  });

  it("describes TPU chips, AMD GPUs, CPUs and memory", () => {
    const fake = parseFakeDevices("V5P:4; MI300X:2; cpu=16; memory=64Gi");
    expect(fake.tpus.map((t) => t.type)).toEqual(["v5p", "v5p", "v5p", "v5p"]);
    expect(fake.gpus.map((g) => [g.vendor, g.index, g.name])).toEqual([
      ["amd", 0, "AMD Instinct MI300X"],
      ["amd", 1, "AMD Instinct MI300X"],
    ]);
    expect(fake.cpus).toBe(16);
    expect(fake.memoryBytes).toBe(64 * 2 ** 30);
  });

  it("rejects an unreadable group, naming it", () => {
    expect(() => parseFakeDevices("H100")).toThrow(InvalidConfigError);
    expect(() => parseFakeDevices("A100:1,mig=big")).toThrow(/mig=|MIG slices/);
  });

  it("replaces accelerator detection in detectInventory", async () => {
    const host = await detectInventory({ env: { FLYTE_TS_FAKE_DEVICES: "H100:8;cpu=32" } });
    expect(host.gpus).toHaveLength(8);
    expect(host.cpus).toBe(32);
    expect(host.sources).toEqual(["fake"]);
    expect(host.memoryBytes).toBeLessThanOrEqual(totalmem());
  });
});

describe("host detection without accelerators", () => {
  it("finds no devices and does not throw when no tool is installed", async () => {
    const host = await detectInventory({
      env: {},
      nvidiaSmi: "/nonexistent/nvidia-smi",
      rocmSmi: "/nonexistent/rocm-smi",
      devDir: await folder({}),
      sysDir: await folder({}),
    });
    expect(host.gpus).toEqual([]);
    expect(host.tpus).toEqual([]);
    expect(host.sources).toEqual([]);
    expect(host.cpus).toBeGreaterThan(0);
  });
});

describe("TPU and AMD detection", () => {
  it("counts /dev/accel chips and names the generation from TPU_ACCELERATOR_TYPE", async () => {
    const dev = await folder({ accel0: "", accel1: "", accel2: "", accel3: "", null: "" });
    const host = await detectInventory({
      env: { TPU_ACCELERATOR_TYPE: "v4-8" },
      devDir: dev,
      nvidiaSmi: "/nonexistent/nvidia-smi",
      rocmSmi: "/nonexistent/rocm-smi",
    });
    expect(host.tpus.map((t) => [t.index, t.type])).toEqual([
      [0, "v4"],
      [1, "v4"],
      [2, "v4"],
      [3, "v4"],
    ]);
    expect(host.sources).toEqual(["tpu"]);
  });

  it("counts numbered /dev/vfio entries (v5e, v5p, v6e)", async () => {
    const dev = await folder({ "vfio/0": "", "vfio/1": "", "vfio/vfio": "" });
    const host = await detectInventory({
      env: { TPU_ACCELERATOR_TYPE: "v5litepod-8" },
      devDir: dev,
      nvidiaSmi: "/nonexistent/nvidia-smi",
      rocmSmi: "/nonexistent/rocm-smi",
    });
    expect(host.tpus.map((t) => t.type)).toEqual(["v5e", "v5e"]);
  });

  it("finds AMD GPUs in sysfs when rocm-smi is missing", async () => {
    const sys = await folder({
      "class/drm/card0/device/vendor": "0x8086\n",
      "class/drm/card1/device/vendor": "0x1002\n",
      "class/drm/card1/device/mem_info_vram_total": "68702699520\n",
      "class/drm/card1/device/product_name": "AMD Instinct MI250X\n",
      "class/drm/card1-DP-1/status": "disconnected\n",
      "class/drm/card2/device/vendor": "0x1002\n",
    });
    const host = await detectInventory({
      env: {},
      devDir: await folder({}),
      nvidiaSmi: "/nonexistent/nvidia-smi",
      rocmSmi: "/nonexistent/rocm-smi",
      sysDir: sys,
    });
    expect(host.gpus.map((g) => [g.vendor, g.index, g.name, g.memoryBytes])).toEqual([
      ["amd", 0, "AMD Instinct MI250X", 68702699520],
      ["amd", 1, "AMD GPU", undefined],
    ]);
    expect(host.sources).toEqual(["sysfs"]);
  });

  it("reads TPU generations", () => {
    expect(tpuTypeFrom("v5p-16")).toBe("v5p");
    expect(tpuTypeFrom("v6e-8")).toBe("v6e");
    expect(tpuTypeFrom(undefined)).toBe("tpu");
  });

  it("parses rocm-smi JSON into AMD GPUs", async () => {
    const gpus = parseRocmSmiJson(await readFile(`${fixtures}rocm-smi-mi300x.json`, "utf8"));
    expect(gpus.map((g) => [g.index, g.name, g.uuid, g.memoryBytes])).toEqual([
      [0, "AMD Instinct MI300X", "0x8a2e5c1f6b7d9034", 205822885888],
      [1, "AMD Instinct MI300X", "0x1c3e9a7b2d4f6e81", 205822885888],
    ]);
    expect(parseRocmSmiJson("not json")).toEqual([]);
  });
});

describe("model matching", () => {
  it.each([
    ["A100 80G", "NVIDIA A100-SXM4-80GB", true],
    ["A100 80G", "NVIDIA A100 80GB PCIe", true],
    ["A100 80G", "NVIDIA A100-SXM4-40GB", false],
    ["A100", "NVIDIA A100-SXM4-40GB", true],
    ["A100", "NVIDIA A100 80GB PCIe", true],
    ["H100", "NVIDIA H100 80GB HBM3", true],
    ["H100", "NVIDIA H100 PCIe", true],
    ["H100", "NVIDIA H200", false],
    ["L40s", "NVIDIA L40S", true],
    ["L4", "NVIDIA L40S", false],
    ["L4", "NVIDIA L4", true],
    ["T4", "Tesla T4", true],
    ["MI300X", "AMD Instinct MI300X", true],
  ])("%s matches %s: %s", (requested, product, expected) => {
    expect(matchesModel(requested, product)).toBe(expected);
  });

  it("matches a memory size against the device's memory when the name does not spell it", () => {
    expect(matchesModel("A100 80G", "NVIDIA A100-PCIE", 81920 * 2 ** 20)).toBe(true);
    expect(matchesModel("A100 80G", "NVIDIA A100-PCIE", 40960 * 2 ** 20)).toBe(false);
  });

  it("matches TPU generations", () => {
    expect(matchesTpu("V5P", "v5p")).toBe(true);
    expect(matchesTpu("V6E", "v5p")).toBe(false);
  });
});
