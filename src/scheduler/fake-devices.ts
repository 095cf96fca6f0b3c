/**
 * `FLYTE_TS_FAKE_DEVICES`: a simulated accelerator inventory, so scheduling is testable and
 * benchmarkable on a machine without GPUs. Groups are separated by `;`:
 *
 * - `H100:8` — eight GPUs of a model (NVIDIA names are spelled out: `NVIDIA H100 80GB HBM3`);
 * - `A100 80G:2,mig=1g.10gb*7` — two GPUs in MIG mode, each split into seven `1g.10gb` slices
 *   (several profiles: `mig=3g.40gb*1+1g.10gb*4`);
 * - `V5P:4` / `V6E:8` — TPU chips of a generation;
 * - `MI300X:8` — AMD GPUs;
 * - `cpu=16`, `memory=64Gi` — override the detected CPUs and memory.
 * @module
 */
import { parseQuantityBytes } from "../api/resources.js";
import { InvalidConfigError } from "../errors.js";
import type { GpuInfo, MigInstance, TpuChip } from "./inventory.js";
import { profileMemoryBytes } from "./nvidia-smi.js";

/** The product names fake GPUs get, by flyte's short name. */
const productNames: Record<string, { name: string; memoryGiB: number; vendor: "nvidia" | "amd" }> =
  {
    T4: { name: "Tesla T4", memoryGiB: 15, vendor: "nvidia" },
    L4: { name: "NVIDIA L4", memoryGiB: 22, vendor: "nvidia" },
    L40S: { name: "NVIDIA L40S", memoryGiB: 45, vendor: "nvidia" },
    A100: { name: "NVIDIA A100-SXM4-40GB", memoryGiB: 40, vendor: "nvidia" },
    "A100 80G": { name: "NVIDIA A100-SXM4-80GB", memoryGiB: 80, vendor: "nvidia" },
    H100: { name: "NVIDIA H100 80GB HBM3", memoryGiB: 80, vendor: "nvidia" },
    H200: { name: "NVIDIA H200", memoryGiB: 141, vendor: "nvidia" },
    MI250X: { name: "AMD Instinct MI250X", memoryGiB: 64, vendor: "amd" },
    MI300X: { name: "AMD Instinct MI300X", memoryGiB: 192, vendor: "amd" },
  };

const tpuTypes = new Set(["V2", "V3", "V4", "V5E", "V5P", "V6E"]);

/** A parsed `FLYTE_TS_FAKE_DEVICES`. */
export interface FakeDevices {
  readonly gpus: readonly GpuInfo[];
  readonly tpus: readonly TpuChip[];
  readonly cpus: number | undefined;
  readonly memoryBytes: number | undefined;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** A recognisable, stable uuid: `GPU-fa4e0000-0000-4000-8000-000000000003`. */
function fakeUuid(prefix: "GPU" | "MIG", gpu: number, slice: number): string {
  return `${prefix}-fa4e${hex(gpu, 4)}-${hex(slice, 4)}-4000-8000-${hex(gpu * 256 + slice, 12)}`;
}

/**
 * Parses a `FLYTE_TS_FAKE_DEVICES` value.
 *
 * @throws InvalidConfigError naming each group that cannot be read
 * @example
 * ```ts
 * parseFakeDevices("A100 80G:2,mig=1g.10gb*7;V5P:4").gpus[0].mig.length; // 7
 * ```
 */
export function parseFakeDevices(spec: string): FakeDevices {
  const gpus: GpuInfo[] = [];
  const tpus: TpuChip[] = [];
  let cpus: number | undefined;
  let memoryBytes: number | undefined;
  const problems: { path: string; message: string }[] = [];
  const vendorCount = { nvidia: 0, amd: 0 };
  for (const raw of spec.split(";")) {
    const group = raw.trim();
    if (group === "") continue;
    const setting = /^(cpu|memory)=(.+)$/i.exec(group);
    if (setting) {
      const value = setting[2]?.trim() ?? "";
      if (setting[1]?.toLowerCase() === "cpu") {
        cpus = Number(value);
        if (!(cpus > 0)) problems.push({ path: group, message: "cpu must be a number above 0." });
      } else {
        try {
          memoryBytes = parseQuantityBytes(value, "memory");
        } catch (error) {
          problems.push({ path: group, message: (error as Error).message });
        }
      }
      continue;
    }
    const match = /^([^:,]+):(\d+)(?:\s*,\s*mig=(.+))?$/.exec(group);
    const model = match?.[1]?.trim() ?? "";
    const count = Number(match?.[2]);
    if (!match || !(count > 0)) {
      problems.push({
        path: group,
        message: 'Expected "<model>:<count>" with an optional ",mig=<profile>*<n>", e.g. "H100:8".',
      });
      continue;
    }
    const upper = model.toUpperCase();
    if (tpuTypes.has(upper)) {
      for (let i = 0; i < count; i++) {
        tpus.push({ index: tpus.length, type: upper.toLowerCase(), path: "fake" });
      }
      continue;
    }
    const known = Object.entries(productNames).find(([k]) => k.toUpperCase() === upper)?.[1];
    const vendor = known?.vendor ?? (/^(MI|RADEON|RX)/i.test(model) ? "amd" : "nvidia");
    const profiles = parseMig(match[3], problems, group);
    for (let i = 0; i < count; i++) {
      const index = vendorCount[vendor]++;
      const gpuNumber = gpus.length;
      const mig: MigInstance[] = profiles.map((profile, slice) => ({
        index: slice,
        uuid: fakeUuid("MIG", gpuNumber, slice + 1),
        profile,
        memoryBytes: profileMemoryBytes(profile),
      }));
      gpus.push({
        vendor,
        index,
        uuid: fakeUuid("GPU", gpuNumber, 0),
        name: known?.name ?? model,
        memoryBytes: known ? known.memoryGiB * 2 ** 30 : undefined,
        busId: `00000000:${hex(0x18 + gpuNumber, 2).toUpperCase()}:00.0`,
        migEnabled: mig.length > 0,
        mig,
      });
    }
  }
  if (problems.length > 0) throw new InvalidConfigError("FLYTE_TS_FAKE_DEVICES", problems);
  return { gpus, tpus, cpus, memoryBytes };
}

function parseMig(
  text: string | undefined,
  problems: { path: string; message: string }[],
  group: string,
): string[] {
  if (text === undefined) return [];
  const profiles: string[] = [];
  for (const part of text.split("+")) {
    const m = /^\s*(\d+g\.\d+gb)\s*(?:\*\s*(\d+))?\s*$/i.exec(part);
    if (!m) {
      problems.push({
        path: group,
        message: `Expected MIG slices such as "1g.10gb*7" or "3g.40gb*1+1g.10gb*4", got "${part}".`,
      });
      continue;
    }
    for (let i = 0; i < Number(m[2] ?? 1); i++) profiles.push((m[1] ?? "").toLowerCase());
  }
  return profiles;
}
