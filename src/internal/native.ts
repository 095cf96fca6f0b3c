/**
 * The optional native addon (`native/`): thread CPU affinity and NVML device listing. Built by
 * `npm install` when a compiler is present; every caller has a JavaScript path without it.
 * @module
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** What NVML reported, or why it could not. */
export type NvmlAnswer =
  | {
      readonly ok: true;
      readonly driverVersion?: string;
      readonly gpus: readonly NvmlGpu[];
    }
  | { readonly ok: false; readonly error: string };

/** One GPU as NVML describes it. */
export interface NvmlGpu {
  readonly index: number;
  readonly name?: string;
  readonly uuid?: string;
  readonly memoryBytes?: number;
  readonly busId?: string;
  readonly migEnabled: boolean;
  readonly mig: readonly { index: number; name?: string; uuid?: string; memoryBytes?: number }[];
}

/** The addon's functions. */
export interface NativeAddon {
  /** Pins the calling thread to `cores` (sched_setaffinity). */
  setAffinity(cores: readonly number[]): void;
  /** The cores the calling thread may run on. */
  getAffinity(): number[];
  /** The kernel id of the calling thread. */
  threadId(): number;
  /** GPUs and MIG instances through libnvidia-ml.so.1 (blocking; call it off the main thread). */
  nvmlDevices(): NvmlAnswer;
}

/** Where the built addon lives, from `src/internal/` and from `dist/internal/` alike. */
export const nativeAddonPath = fileURLToPath(
  new URL("../../native/build/Release/flyte_ts_native.node", import.meta.url),
);

let loaded: { addon: NativeAddon | undefined; reason: string } | undefined;

/**
 * The native addon, or `undefined` when it was not built, cannot load, or `FLYTE_TS_NATIVE=0`.
 *
 * @example
 * ```ts
 * nativeAddon()?.setAffinity([2, 3]);
 * ```
 */
export function nativeAddon(): NativeAddon | undefined {
  loaded ??= load();
  return loaded.addon;
}

/** Why {@link nativeAddon} is `undefined` (or `"loaded"`). */
export function nativeStatus(): string {
  loaded ??= load();
  return loaded.reason;
}

function load(): { addon: NativeAddon | undefined; reason: string } {
  if (process.env.FLYTE_TS_NATIVE === "0") {
    return { addon: undefined, reason: "disabled by FLYTE_TS_NATIVE=0" };
  }
  if (!existsSync(nativeAddonPath)) {
    return {
      addon: undefined,
      reason: "not built (npm install builds it when a C++ compiler is present)",
    };
  }
  try {
    const addon = createRequire(import.meta.url)(nativeAddonPath) as NativeAddon;
    return { addon, reason: "loaded" };
  } catch (error) {
    return { addon: undefined, reason: `cannot load: ${(error as Error).message}` };
  }
}

/**
 * Pins the calling thread (a worker's own thread, or a child process's main thread) to `cores`.
 * Returns false, changing nothing, when the addon is missing or `cores` is empty.
 *
 * @example
 * ```ts
 * // in a worker, before running the task body:
 * pinThisThread(flyte.ctx()!.cpus);
 * ```
 */
export function pinThisThread(cores: readonly number[]): boolean {
  // Nothing to pin: the addon is not loaded (every worker calls this as it starts).
  if (cores.length === 0) return false;
  const addon = nativeAddon();
  if (addon === undefined) return false;
  addon.setAffinity(cores);
  return true;
}

/**
 * Pins this process's calling thread to the cores named in `FLYTE_TS_PIN_CPUS` (set by the
 * scheduler in a lease's environment under `pinCpus`). For process workers to call at start.
 *
 * @example
 * ```ts
 * pinFromEnv(process.env); // true when FLYTE_TS_PIN_CPUS="2,3" and the addon is built
 * ```
 */
export function pinFromEnv(env: NodeJS.ProcessEnv): boolean {
  const cores = (env.FLYTE_TS_PIN_CPUS ?? "")
    .split(",")
    .filter((c) => c.trim() !== "")
    .map(Number)
    .filter((c) => Number.isInteger(c) && c >= 0);
  return pinThisThread(cores);
}
