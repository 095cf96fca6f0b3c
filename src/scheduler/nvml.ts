/**
 * NVIDIA GPUs through NVML (the native addon), without spawning nvidia-smi. NVML calls block, and a
 * wedged driver can block for long, so they run on a worker thread under a time limit.
 * @module
 */
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { type NvmlAnswer, nativeAddon, nativeAddonPath } from "../internal/native.js";
import type { GpuInfo } from "./inventory.js";
import type { ProbeResult } from "./nvidia-smi.js";
import { profileMemoryBytes } from "./nvidia-smi.js";

const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
parentPort.postMessage(require(workerData).nvmlDevices());
`;

/** Asks NVML on a worker thread; `{ ok: false }` on a missing addon, a failure or the time limit. */
export function askNvml(timeoutMs: number): Promise<NvmlAnswer> {
  if (nativeAddon() === undefined) {
    return Promise.resolve({ ok: false, error: "native addon not available" });
  }
  return new Promise((resolve) => {
    const worker = new Worker(workerSource, { eval: true, workerData: nativeAddonPath });
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ ok: false, error: `NVML did not answer within ${timeoutMs} ms` });
    }, timeoutMs);
    worker.once("message", (answer: NvmlAnswer) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(answer);
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      resolve({ ok: false, error: error.message });
    });
  });
}

/**
 * On Linux NVML needs the NVIDIA kernel driver, which shows as `/proc/driver/nvidia` (also inside
 * containers) or `/dev/nvidiactl`: without either, the probe's thread is not started.
 */
function nvidiaDriverMayBeLoaded(): boolean {
  if (process.platform !== "linux") return true;
  return existsSync("/proc/driver/nvidia") || existsSync("/dev/nvidiactl");
}

/** The MIG profile in a MIG device's NVML name: `"NVIDIA A100-SXM4-80GB MIG 1g.10gb"` → `"1g.10gb"`. */
export function migProfileFromName(name: string | undefined): string {
  return /MIG\s+(\S+)\s*$/.exec(name ?? "")?.[1] ?? "unknown";
}

/** Turns NVML's answer into the inventory's GPUs. */
export function gpusFromNvml(answer: NvmlAnswer & { ok: true }): GpuInfo[] {
  return answer.gpus.map((gpu) => ({
    vendor: "nvidia",
    index: gpu.index,
    uuid: gpu.uuid ?? `GPU-index-${gpu.index}`,
    name: gpu.name ?? "NVIDIA GPU",
    memoryBytes: gpu.memoryBytes,
    busId: gpu.busId,
    migEnabled: gpu.migEnabled,
    mig: gpu.mig.map((slice) => {
      const profile = migProfileFromName(slice.name);
      return {
        index: slice.index,
        uuid: slice.uuid ?? "",
        profile,
        memoryBytes: slice.memoryBytes ?? profileMemoryBytes(profile),
      };
    }),
  }));
}

/** Finds NVIDIA GPUs with NVML; `found: false` when NVML is not usable (then nvidia-smi is asked). */
export async function detectNvmlGpus(timeoutMs: number): Promise<ProbeResult<GpuInfo>> {
  if (!nvidiaDriverMayBeLoaded())
    return { found: false, source: "nvml", devices: [], warnings: [] };
  const answer = await askNvml(timeoutMs);
  if (!answer.ok) return { found: false, source: "nvml", devices: [], warnings: [] };
  return { found: true, source: "nvml", devices: gpusFromNvml(answer), warnings: [] };
}
