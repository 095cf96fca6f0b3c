import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  detectNvidiaGpus,
  parseGpuList,
  parseQueryCsv,
  profileMemoryBytes,
} from "../../../src/scheduler/nvidia-smi.js";

const fixtures = fileURLToPath(new URL("../../fixtures/devices/", import.meta.url));
const fields23 =
  "index,name,uuid,pci.bus_id,pci.device_id,pci.sub_device_id,driver_version,compute_cap,memory.total,memory.used,memory.free,utilization.gpu,utilization.memory,mig.mode.current,mig.mode.pending,compute_mode,pstate,persistence_mode,temperature.gpu,power.draw,power.limit,clocks.max.sm,clocks.max.memory".split(
    ",",
  );

/** An executable `nvidia-smi` that replays a recorded fixture folder. */
async function fakeNvidiaSmi(folder: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "flyte-ts-smi-"));
  const path = join(dir, "nvidia-smi");
  await writeFile(
    path,
    `#!/bin/sh\nexec "${process.execPath}" "${fixtures}fake-nvidia-smi.mjs" "${fixtures}${folder}" "$@"\n`,
  );
  await chmod(path, 0o755);
  return path;
}

describe("nvidia-smi parsing", () => {
  it("reads every field of the recorded 8 x H100 query, in the order asked", async () => {
    const rows = parseQueryCsv(await readFile(`${fixtures}h100x8/query.csv`, "utf8"), fields23);
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatchObject({
      index: "0",
      name: "NVIDIA H100 80GB HBM3",
      uuid: "GPU-9c2c8ba4-4c0d-3a4e-8f0e-5b1d0a7e2c11",
      "pci.bus_id": "00000000:18:00.0",
      "memory.total": "81559",
      "mig.mode.current": "Disabled",
      "clocks.max.memory": "2619",
    });
    expect(rows.map((r) => r.index)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
  });

  it("maps [N/A] and [Not Supported] to null", async () => {
    const rows = parseQueryCsv(await readFile(`${fixtures}a100-mig/query.csv`, "utf8"), fields23);
    expect(rows[0]?.["utilization.gpu"]).toBeNull();
    expect(rows[0]?.["utilization.memory"]).toBeNull();
    expect(rows[1]?.["utilization.gpu"]).toBe("0");
    expect(parseQueryCsv("0, [Not Supported]\n", ["index", "power.draw"])[0]).toEqual({
      index: "0",
      "power.draw": null,
    });
  });

  it("lists MIG instances with profile and uuid under their GPU from nvidia-smi -L", async () => {
    const gpus = parseGpuList(await readFile(`${fixtures}a100-mig/list.txt`, "utf8"));
    expect(gpus.map((g) => g.mig.length)).toEqual([4, 0, 0, 0]);
    expect(gpus[0]?.name).toBe("NVIDIA A100-SXM4-80GB");
    expect(gpus[0]?.mig[2]).toEqual({
      index: 2,
      uuid: "MIG-f00d722c-f4e1-52c9-aa31-750441ae1bfe",
      profile: "1g.20gb",
      memoryBytes: 20 * 2 ** 30,
    });
  });

  it("reads the memory a MIG profile names", () => {
    expect(profileMemoryBytes("3g.40gb")).toBe(40 * 2 ** 30);
    expect(profileMemoryBytes("odd")).toBeUndefined();
  });
});

describe("nvidia-smi detection (a recorded nvidia-smi run as a real process)", () => {
  it("finds 8 H100s with their uuids and memory", async () => {
    const found = await detectNvidiaGpus({
      binary: await fakeNvidiaSmi("h100x8"),
      timeoutMs: 10_000,
    });
    expect(found.warnings).toEqual([]);
    expect(found.devices).toHaveLength(8);
    expect(found.devices[7]).toMatchObject({
      vendor: "nvidia",
      index: 7,
      uuid: "GPU-f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e18",
      name: "NVIDIA H100 80GB HBM3",
      memoryBytes: 81559 * 2 ** 20,
      busId: "00000000:DB:00.0",
      migEnabled: false,
      mig: [],
    });
  });

  it("marks the MIG GPU and carries its slices", async () => {
    const found = await detectNvidiaGpus({
      binary: await fakeNvidiaSmi("a100-mig"),
      timeoutMs: 10_000,
    });
    expect(found.devices.map((g) => g.migEnabled)).toEqual([true, false, false, false]);
    expect(found.devices[0]?.mig.map((m) => m.uuid)).toContain(
      "MIG-ce861fb0-a248-58ce-a9a8-f9adbc22a66a",
    );
  });

  it("still finds the GPU when an old driver rejects an extra field", async () => {
    const found = await detectNvidiaGpus({
      binary: await fakeNvidiaSmi("old-driver"),
      timeoutMs: 10_000,
    });
    expect(found.devices).toHaveLength(1);
    expect(found.devices[0]).toMatchObject({ name: "Tesla T4", migEnabled: false });
    expect(found.warnings).toEqual([]);
  });

  it("finds nothing, without a warning, when nvidia-smi reports no devices", async () => {
    const found = await detectNvidiaGpus({
      binary: await fakeNvidiaSmi("no-gpu"),
      timeoutMs: 10_000,
    });
    expect(found.devices).toEqual([]);
    expect(found.warnings).toEqual([]);
  });

  it("finds nothing and says why when nvidia-smi cannot talk to the driver", async () => {
    const found = await detectNvidiaGpus({
      binary: await fakeNvidiaSmi("smi-failing"),
      timeoutMs: 10_000,
    });
    expect(found.devices).toEqual([]);
    expect(found.warnings[0]).toMatch(/couldn't communicate with the NVIDIA driver/);
  });

  it("treats a missing nvidia-smi as no NVIDIA GPUs", async () => {
    const found = await detectNvidiaGpus({
      binary: "/nonexistent/nvidia-smi",
      timeoutMs: 10_000,
    });
    expect(found).toMatchObject({ found: false, devices: [], warnings: [] });
  });

  it("gives up on an nvidia-smi that hangs, at its time limit", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flyte-ts-smi-"));
    const path = join(dir, "nvidia-smi");
    await writeFile(path, "#!/bin/sh\nexec sleep 30\n");
    await chmod(path, 0o755);
    const found = await detectNvidiaGpus({ binary: path, timeoutMs: 200 });
    expect(found.devices).toEqual([]);
    expect(found.warnings[0]).toMatch(/timed out after 200 ms/);
  });
});
