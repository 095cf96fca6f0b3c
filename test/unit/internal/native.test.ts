import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { nativeAddon, nativeAddonPath, nativeStatus } from "../../../src/internal/native.js";
import { askNvml } from "../../../src/scheduler/nvml.js";

const addon = nativeAddon();
const noAddon = addon === undefined;
if (noAddon) console.warn(`native addon tests skipped: the addon is ${nativeStatus()}`);
const nvml = await askNvml(10_000);
const noGpu = !nvml.ok;
if (noGpu) console.warn(`NVML tests skipped: no NVIDIA GPU on this host (${nvml.error})`);

function allowedCpus(tid: number): string {
  const status = readFileSync(`/proc/self/task/${tid}/status`, "utf8");
  return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? "";
}

describe("native addon: thread CPU affinity", () => {
  it.skipIf(noAddon)("pins the calling thread, as /proc/self/task/<tid>/status shows", () => {
    const a = addon!;
    const before = a.getAffinity();
    const core = before.at(-1)!;
    try {
      a.setAffinity([core]);
      expect(allowedCpus(a.threadId())).toBe(String(core));
      expect(a.getAffinity()).toEqual([core]);
    } finally {
      a.setAffinity(before);
    }
    expect(a.getAffinity()).toEqual(before);
  });

  it.skipIf(noAddon)("pins a worker thread without moving the main thread", async () => {
    const a = addon!;
    const main = allowedCpus(a.threadId());
    const core = a.getAffinity()[0]!;
    const worker = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
       const a = require(workerData.path);
       a.setAffinity([workerData.core]);
       const s = require("node:fs").readFileSync("/proc/self/task/" + a.threadId() + "/status", "utf8");
       parentPort.postMessage(/Cpus_allowed_list:\\s*(\\S+)/.exec(s)[1]);`,
      { eval: true, workerData: { path: nativeAddonPath, core } },
    );
    const seen = await new Promise<string>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    expect(seen).toBe(String(core));
    expect(allowedCpus(a.threadId())).toBe(main);
  });

  it.skipIf(noAddon)("rejects core ids that are not numbers or out of range", () => {
    expect(() => addon!.setAffinity(["0" as unknown as number])).toThrow(TypeError);
    expect(() => addon!.setAffinity([-1])).toThrow(RangeError);
  });
});

describe("native addon: NVML", () => {
  it.skipIf(!noGpu || noAddon)("says why when libnvidia-ml.so.1 is not on this host", () => {
    expect(nvml).toMatchObject({ ok: false, error: expect.stringMatching(/libnvidia-ml/) });
  });

  it.skipIf(noGpu)("lists the GPUs nvidia-smi lists, with uuids and memory", () => {
    if (!nvml.ok) return;
    expect(nvml.gpus.length).toBeGreaterThan(0);
    const listed = spawnSync("nvidia-smi", ["-L"], { encoding: "utf8" }).stdout;
    for (const gpu of nvml.gpus) {
      expect(gpu.uuid).toMatch(/^GPU-/);
      expect(listed).toContain(gpu.uuid);
      expect(gpu.memoryBytes).toBeGreaterThan(0);
    }
  });
});

describe("native build step", () => {
  it("prints one line and succeeds when the addon cannot be built", () => {
    const script = fileURLToPath(new URL("../../../native/build.mjs", import.meta.url));
    const result = spawnSync(process.execPath, [script], {
      encoding: "utf8",
      env: { PATH: "", npm_config_node_gyp: "/nonexistent/node-gyp.js" },
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^flyte-ts: native addon not built \(.+\); CPU pinning is off/);
  });
});
