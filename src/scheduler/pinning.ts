/**
 * The environment variables that pin a task's process to the devices it was given. They are read
 * once per process by the CUDA, ROCm and TPU runtimes, so they only work on the `"process"` runtime.
 * @module
 */
import type { AssignedDevice } from "../context/context.js";

/** The variable carrying pinned core ids to a worker (`"0,1"`); the worker pins itself. */
export const PIN_CPUS_VARIABLE = "FLYTE_TS_PIN_CPUS";

/** TPU `TPU_CHIPS_PER_PROCESS_BOUNDS` per chip count, as Ray sets them for sub-host slices. */
const tpuBounds: Record<number, string> = { 1: "1,1,1", 2: "1,2,1", 4: "2,2,1", 8: "2,4,1" };

/**
 * The pinning variables for an attempt holding `devices` (and pinned to `cores`):
 *
 * - NVIDIA GPUs and MIG slices: `CUDA_VISIBLE_DEVICES` and `NVIDIA_VISIBLE_DEVICES` with uuids
 *   (`GPU-…`, `MIG-…`), so the numbering means the same to the child whatever CUDA's order;
 * - AMD GPUs: `ROCR_VISIBLE_DEVICES` and `HIP_VISIBLE_DEVICES` with indices;
 * - TPU chips: `TPU_VISIBLE_CHIPS`, `TPU_CHIPS_PER_PROCESS_BOUNDS` and `TPU_PROCESS_BOUNDS`;
 * - pinned cores: `FLYTE_TS_PIN_CPUS`.
 *
 * @example
 * ```ts
 * pinningEnv([{ kind: "gpu", vendor: "nvidia", id: "GPU-9c2c…", … }], []);
 * // { CUDA_VISIBLE_DEVICES: "GPU-9c2c…", NVIDIA_VISIBLE_DEVICES: "GPU-9c2c…" }
 * ```
 */
export function pinningEnv(
  devices: readonly AssignedDevice[],
  cores: readonly number[],
): Record<string, string> {
  const env: Record<string, string> = {};
  const nvidia = devices.filter((d) => d.vendor === "nvidia").map((d) => d.id);
  if (nvidia.length > 0) {
    env.CUDA_VISIBLE_DEVICES = nvidia.join(",");
    env.NVIDIA_VISIBLE_DEVICES = nvidia.join(",");
  }
  const amd = devices.filter((d) => d.vendor === "amd").map((d) => d.id);
  if (amd.length > 0) {
    env.ROCR_VISIBLE_DEVICES = amd.join(",");
    env.HIP_VISIBLE_DEVICES = amd.join(",");
  }
  const chips = devices.filter((d) => d.kind === "tpu").map((d) => d.id);
  if (chips.length > 0) {
    env.TPU_VISIBLE_CHIPS = chips.join(",");
    env.TPU_CHIPS_PER_PROCESS_BOUNDS = tpuBounds[chips.length] ?? `1,${chips.length},1`;
    env.TPU_PROCESS_BOUNDS = "1,1,1";
  }
  if (cores.length > 0) env[PIN_CPUS_VARIABLE] = cores.join(",");
  return env;
}
