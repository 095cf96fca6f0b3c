/**
 * The host inventory: CPUs and memory (cgroup-aware), NVIDIA and AMD GPUs (with MIG instances) and
 * TPU chips. Detection never throws and never hangs: every probe is async with a timeout, a missing
 * tool means "none of those devices", and what went wrong is kept in `warnings`. The result is
 * cached per process. `FLYTE_TS_FAKE_DEVICES` replaces accelerator detection with a simulated
 * inventory (see fake-devices.ts).
 * @module
 */
import { readFile } from "node:fs/promises";
import { availableParallelism, totalmem } from "node:os";
import { detectAmdGpus, detectTpuChips } from "./accelerators.js";
import { parseFakeDevices } from "./fake-devices.js";
import { detectNvidiaGpus } from "./nvidia-smi.js";
import { detectNvmlGpus } from "./nvml.js";

/** One MIG instance of an NVIDIA GPU: a slice that a process sees as a whole device. */
export interface MigInstance {
  /** Index of the instance on its GPU, as `nvidia-smi -L` numbers it. */
  readonly index: number;
  /** `MIG-<uuid>`: what `CUDA_VISIBLE_DEVICES` takes. */
  readonly uuid: string;
  /** The MIG profile, e.g. `"1g.10gb"`. */
  readonly profile: string;
  /** Memory of the slice in bytes, when known. */
  readonly memoryBytes: number | undefined;
}

/** One GPU of the host. */
export interface GpuInfo {
  readonly vendor: "nvidia" | "amd";
  /** The index among this vendor's GPUs (nvidia-smi / rocm-smi numbering). */
  readonly index: number;
  /** `GPU-<uuid>` for NVIDIA; the unique id or `"card<N>"` for AMD. */
  readonly uuid: string;
  /** The product name, e.g. `"NVIDIA H100 80GB HBM3"`. */
  readonly name: string;
  /** Total memory in bytes, when known. */
  readonly memoryBytes: number | undefined;
  /** PCI bus id, e.g. `"00000000:18:00.0"`, when known. */
  readonly busId: string | undefined;
  /** Whether MIG mode is on: then only its `mig` slices can be assigned, never the whole GPU. */
  readonly migEnabled: boolean;
  /** The GPU's MIG instances (empty unless `migEnabled`). */
  readonly mig: readonly MigInstance[];
}

/** One TPU chip of the host. */
export interface TpuChip {
  /** The chip's index (the N of `/dev/accelN` or `/dev/vfio/N` order): what `TPU_VISIBLE_CHIPS` takes. */
  readonly index: number;
  /** The generation, lower case: `"v4"`, `"v5p"`, `"v5e"`, `"v6e"`, or `"tpu"` when unknown. */
  readonly type: string;
  /** The device file, e.g. `"/dev/accel0"`, or `"fake"`. */
  readonly path: string;
}

/** What this host has, as the scheduler admits against it. */
export interface HostInventory {
  /** CPU cores available to this process (fractional under a cgroup quota). */
  readonly cpus: number;
  /** Where `cpus` came from. */
  readonly cpuSource: "cgroup" | "os" | "fake";
  /** Memory available to this process in bytes. */
  readonly memoryBytes: number;
  /** Where `memoryBytes` came from. */
  readonly memorySource: "cgroup" | "os" | "fake";
  readonly gpus: readonly GpuInfo[];
  readonly tpus: readonly TpuChip[];
  /** How accelerators were found: e.g. `["nvidia-smi"]`, `["fake"]`, or `[]` when none. */
  readonly sources: readonly string[];
  /** Probes that failed or timed out, each one sentence. */
  readonly warnings: readonly string[];
}

/** Options of {@link detectInventory}. */
export interface DetectOptions {
  /** The environment to read `FLYTE_TS_FAKE_DEVICES` and `TPU_*` from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Time limit per probe in milliseconds. @default 5000 */
  timeoutMs?: number;
  /** The cgroup filesystem root. @default "/sys/fs/cgroup" */
  cgroupRoot?: string;
  /** The device folder searched for TPU chips. @default "/dev" */
  devDir?: string;
  /** The nvidia-smi binary. @default "nvidia-smi" (found on PATH) */
  nvidiaSmi?: string;
  /** The rocm-smi binary. @default "rocm-smi" (found on PATH) */
  rocmSmi?: string;
  /** The sysfs root searched for AMD GPUs when rocm-smi is missing. @default "/sys" */
  sysDir?: string;
}

/** The cgroup CPU quota in cores, or `undefined` when unlimited or unreadable. */
export async function cgroupCpuLimit(root = "/sys/fs/cgroup"): Promise<number | undefined> {
  const v2 = await readText(`${root}/cpu.max`);
  if (v2 !== undefined) {
    const [quota, period] = v2.trim().split(/\s+/);
    if (quota === undefined || quota === "max") return undefined;
    const cores = Number(quota) / Number(period ?? 100_000);
    return Number.isFinite(cores) && cores > 0 ? cores : undefined;
  }
  const quota = Number(await readText(`${root}/cpu/cpu.cfs_quota_us`));
  const period = Number(await readText(`${root}/cpu/cpu.cfs_period_us`));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/** The cgroup memory limit in bytes, or `undefined` when unlimited or unreadable. */
export async function cgroupMemoryLimit(root = "/sys/fs/cgroup"): Promise<number | undefined> {
  const text =
    (await readText(`${root}/memory.max`)) ??
    (await readText(`${root}/memory/memory.limit_in_bytes`));
  const bytes = Number(text?.trim());
  // cgroup v1 spells "no limit" as a huge page-aligned number.
  return Number.isFinite(bytes) && bytes > 0 && bytes < 2 ** 60 ? bytes : undefined;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Detects what this host has. Never throws: a probe that fails adds a warning and finds nothing.
 *
 * @example
 * ```ts
 * const host = await detectInventory();
 * console.log(host.cpus, host.gpus.map((g) => g.name));
 * ```
 */
export async function detectInventory(options: DetectOptions = {}): Promise<HostInventory> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 5000;
  const [cpuLimit, memoryLimit] = await Promise.all([
    cgroupCpuLimit(options.cgroupRoot),
    cgroupMemoryLimit(options.cgroupRoot),
  ]);
  const osCpus = availableParallelism();
  const cpus = cpuLimit === undefined ? osCpus : Math.min(osCpus, cpuLimit);
  const memoryBytes = memoryLimit === undefined ? totalmem() : Math.min(totalmem(), memoryLimit);
  const host = {
    cpus,
    cpuSource: cpuLimit !== undefined && cpuLimit < osCpus ? "cgroup" : "os",
    memoryBytes,
    memorySource: memoryLimit !== undefined && memoryLimit < totalmem() ? "cgroup" : "os",
  } as const;
  const fake = env.FLYTE_TS_FAKE_DEVICES;
  if (fake !== undefined && fake.trim() !== "") {
    const parsed = parseFakeDevices(fake);
    return {
      ...host,
      ...(parsed.cpus === undefined ? {} : { cpus: parsed.cpus, cpuSource: "fake" }),
      ...(parsed.memoryBytes === undefined
        ? {}
        : { memoryBytes: parsed.memoryBytes, memorySource: "fake" }),
      gpus: parsed.gpus,
      tpus: parsed.tpus,
      sources: ["fake"],
      warnings: [],
    };
  }
  const [nvidia, amd, tpu] = await Promise.all([
    detectNvidia(options, timeoutMs),
    detectAmdGpus({
      binary: options.rocmSmi ?? "rocm-smi",
      timeoutMs,
      ...(options.sysDir === undefined ? {} : { sysDir: options.sysDir }),
    }),
    detectTpuChips({ devDir: options.devDir ?? "/dev", env }),
  ]);
  return {
    ...host,
    gpus: [...nvidia.devices, ...amd.devices],
    tpus: tpu.devices,
    sources: [nvidia, amd, tpu].filter((p) => p.found).map((p) => p.source),
    warnings: [...nvidia.warnings, ...amd.warnings, ...tpu.warnings],
  };
}

/** NVML through the native addon when it answers (and no nvidia-smi was named), else nvidia-smi. */
async function detectNvidia(options: DetectOptions, timeoutMs: number) {
  if (options.nvidiaSmi === undefined) {
    const nvml = await detectNvmlGpus(timeoutMs);
    if (nvml.found) return nvml;
  }
  return detectNvidiaGpus({ binary: options.nvidiaSmi ?? "nvidia-smi", timeoutMs });
}

let cached: Promise<HostInventory> | undefined;

/**
 * This process's inventory, detected once and cached; `refresh: true` detects again.
 *
 * @example
 * ```ts
 * const host = await hostInventory();
 * ```
 */
export function hostInventory(options: { refresh?: boolean } = {}): Promise<HostInventory> {
  if (cached === undefined || options.refresh) cached = detectInventory();
  return cached;
}
