/**
 * `flyte-ts devices [--json]`: what the scheduler sees on this host — CPUs, memory, GPUs (with MIG
 * slices) and TPU chips — as a table, or as JSON for scripts.
 * @module
 */
import { GPU_SHARE_UNITS } from "../api/devices.js";
import { InvalidConfigError } from "../errors.js";
import { nativeStatus } from "../internal/native.js";
import { detectInventory, type HostInventory } from "../scheduler/inventory.js";
import { formatBytes } from "../scheduler/ledger.js";
import { ExitCode, UsageError } from "./usage.js";

/** `flyte-ts devices --help`. */
export const devicesHelp = `Usage: flyte-ts devices [--json]

Prints what the local scheduler admits tasks against: CPUs and memory (cgroup limits applied),
NVIDIA GPUs with their MIG slices (NVML through the native addon, else nvidia-smi), AMD GPUs
(rocm-smi) and TPU chips (/dev/accel*, /dev/vfio). FLYTE_TS_FAKE_DEVICES="H100:8" simulates devices.
MODE "shareable": the GPU takes whole-device tasks and shares (Resources({ gpu: 0.5 })).

Options:
  --json      print the inventory as JSON
  -h, --help  show this help
`;

/** Formats the inventory as a table, one row per assignable device. */
export function formatInventory(host: HostInventory, native: string): string {
  const lines = [
    `CPUs     ${host.cpus} (${host.cpuSource})`,
    `Memory   ${formatBytes(host.memoryBytes)} (${host.memorySource})`,
    `Sources  ${host.sources.length === 0 ? "none" : host.sources.join(", ")}`,
    `Native   ${native}`,
    "",
  ];
  const rows: string[][] = [];
  for (const gpu of host.gpus) {
    const memory = gpu.memoryBytes === undefined ? "" : formatBytes(gpu.memoryBytes);
    // A GPU not split by MIG takes whole-device requests and shares (`gpu: 0.5`) alike.
    const state = gpu.migEnabled ? "MIG" : "shareable";
    rows.push([`${gpu.vendor} gpu`, String(gpu.index), gpu.name, memory, state, gpu.uuid]);
    for (const slice of gpu.mig) {
      const sliceMemory = slice.memoryBytes === undefined ? "" : formatBytes(slice.memoryBytes);
      rows.push([
        "  mig",
        `${gpu.index}.${slice.index}`,
        slice.profile,
        sliceMemory,
        "",
        slice.uuid,
      ]);
    }
  }
  for (const chip of host.tpus) {
    rows.push(["tpu", String(chip.index), chip.type, "", "", chip.path]);
  }
  if (rows.length === 0) {
    lines.push("No GPUs or TPUs found.");
  } else {
    const table = [["KIND", "INDEX", "NAME", "MEMORY", "MODE", "ID"], ...rows];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => (r[c] ?? "").length)));
    for (const row of table) {
      lines.push(
        row
          .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
          .join("  "),
      );
    }
  }
  if (host.gpus.some((g) => !g.migEnabled)) {
    lines.push(
      "",
      `A shareable GPU runs one whole-device task, or tasks asking for shares (gpu: 0.5) that add up to at most 1 (counted in 1/${GPU_SHARE_UNITS}); MIG slices and TPU chips are never shared.`,
    );
  }
  for (const warning of host.warnings) lines.push(`warning: ${warning}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The host's inventory, as the scheduler sees it.
 * @throws UsageError (no stack) when `FLYTE_TS_FAKE_DEVICES` cannot be read.
 */
export async function detectHost(): Promise<HostInventory> {
  try {
    return await detectInventory();
  } catch (error) {
    if (!(error instanceof InvalidConfigError)) throw error;
    throw new UsageError(
      `${error.message}\nFix FLYTE_TS_FAKE_DEVICES (e.g. "H100:8", "A100 80G:2,mig=1g.10gb*7;cpu=16") or unset it to detect the real devices.`,
      { cause: error },
    );
  }
}

/**
 * Runs `flyte-ts devices` with the words after `devices`.
 *
 * @example
 * ```ts
 * await devicesCommand(["--json"]);
 * ```
 */
export async function devicesCommand(args: readonly string[]): Promise<ExitCode> {
  if (args.includes("-h") || args.includes("--help")) {
    process.stdout.write(devicesHelp);
    return ExitCode.ok;
  }
  const unknown = args.filter((a) => a !== "--json");
  if (unknown.length > 0) {
    throw new UsageError(
      `Unknown option \`${unknown[0]}\` for devices. See \`flyte-ts devices --help\`.`,
    );
  }
  const host = await detectHost();
  if (args.includes("--json")) {
    const gpuShareUnits = GPU_SHARE_UNITS;
    const json = { ...host, native: nativeStatus(), gpuShareUnits };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    process.stdout.write(formatInventory(host, nativeStatus()));
  }
  return ExitCode.ok;
}
