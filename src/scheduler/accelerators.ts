/**
 * AMD GPUs (rocm-smi JSON) and Google TPU chips (`/dev/accel*`, `/dev/vfio/<n>`, `TPU_*` variables).
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import type { GpuInfo, TpuChip } from "./inventory.js";
import { type ProbeResult, runTool, type ToolOptions } from "./nvidia-smi.js";

/**
 * Parses `rocm-smi --showproductname --showmeminfo vram --showuniqueid --json`: one GPU per
 * `cardN` key.
 *
 * @example
 * ```ts
 * parseRocmSmiJson('{"card0": {"Card Series": "AMD Instinct MI300X", "VRAM Total Memory (B)": "205822885888"}}');
 * ```
 */
export function parseRocmSmiJson(text: string): GpuInfo[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (parsed === null || typeof parsed !== "object") return [];
  const gpus: GpuInfo[] = [];
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const card = /^card(\d+)$/.exec(key);
    if (!card || value === null || typeof value !== "object") continue;
    const fields = value as Record<string, unknown>;
    const text = (name: string) => {
      const v = fields[name];
      return typeof v === "string" && v.trim() !== "" && v !== "N/A" ? v.trim() : undefined;
    };
    const memory = Number(text("VRAM Total Memory (B)"));
    const uniqueId = text("Unique ID");
    gpus.push({
      vendor: "amd",
      index: Number(card[1]),
      uuid: uniqueId ?? key,
      name: text("Card Series") ?? text("Card Model") ?? text("Card SKU") ?? "AMD GPU",
      memoryBytes: Number.isFinite(memory) && memory > 0 ? memory : undefined,
      busId: text("PCI Bus"),
      migEnabled: false,
      mig: [],
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

/**
 * Finds AMD GPUs without tools, in sysfs: `/sys/class/drm/card<N>` whose `device/vendor` is
 * `0x1002`, with `device/mem_info_vram_total` as memory (amdgpu). Numbered in card order.
 */
export async function detectAmdSysfs(sysDir: string): Promise<GpuInfo[]> {
  const drm = `${sysDir}/class/drm`;
  let cards: string[];
  try {
    cards = (await readdir(drm)).filter((name) => /^card\d+$/.test(name));
  } catch {
    return [];
  }
  cards.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  const read = async (path: string) => {
    try {
      return (await readFile(path, "utf8")).trim();
    } catch {
      return undefined;
    }
  };
  const gpus: GpuInfo[] = [];
  for (const card of cards) {
    if ((await read(`${drm}/${card}/device/vendor`)) !== "0x1002") continue;
    const memory = Number(await read(`${drm}/${card}/device/mem_info_vram_total`));
    gpus.push({
      vendor: "amd",
      index: gpus.length,
      uuid: (await read(`${drm}/${card}/device/unique_id`)) ?? card,
      name: (await read(`${drm}/${card}/device/product_name`)) || "AMD GPU",
      memoryBytes: Number.isFinite(memory) && memory > 0 ? memory : undefined,
      busId: undefined,
      migEnabled: false,
      mig: [],
    });
  }
  return gpus;
}

/** Finds AMD GPUs with rocm-smi, else in sysfs; neither means no AMD GPUs. */
export async function detectAmdGpus(
  tool: ToolOptions & { readonly sysDir?: string },
): Promise<ProbeResult<GpuInfo>> {
  const source = "rocm-smi";
  const answer = await runTool(
    tool.binary,
    ["--showproductname", "--showmeminfo", "vram", "--showuniqueid", "--json"],
    tool.timeoutMs,
  );
  if (!answer.ok) {
    const sysfs = await detectAmdSysfs(tool.sysDir ?? "/sys");
    if (sysfs.length > 0) return { found: true, source: "sysfs", devices: sysfs, warnings: [] };
    return {
      found: false,
      source,
      devices: [],
      warnings: answer.absent ? [] : [`rocm-smi failed (${answer.reason}); no AMD GPUs assumed.`],
    };
  }
  return { found: true, source, devices: parseRocmSmiJson(answer.stdout), warnings: [] };
}

/**
 * The TPU generation from `TPU_ACCELERATOR_TYPE` (`"v5p-8"` → `"v5p"`, `"v5litepod-8"` → `"v5e"`),
 * or `"tpu"` when unknown.
 */
export function tpuTypeFrom(acceleratorType: string | undefined): string {
  const match = /^(v\d+[a-z]*)-\d+$/i.exec(acceleratorType?.trim() ?? "");
  const generation = match?.[1]?.toLowerCase();
  if (generation === undefined) return "tpu";
  return generation === "v5litepod" ? "v5e" : generation;
}

/** Options of {@link detectTpuChips}. */
export interface TpuProbeOptions {
  readonly devDir: string;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Finds TPU chips: `/dev/accel<N>` (v2–v4) or numbered entries of `/dev/vfio/` (v5e, v5p, v6e).
 * The generation comes from `TPU_ACCELERATOR_TYPE`; the GCE metadata server is not queried.
 */
export async function detectTpuChips(options: TpuProbeOptions): Promise<ProbeResult<TpuChip>> {
  const source = "tpu";
  const type = tpuTypeFrom(options.env.TPU_ACCELERATOR_TYPE);
  const numbered = async (dir: string, pattern: RegExp) => {
    try {
      return (await readdir(dir))
        .map((name) => ({ name, n: pattern.exec(name)?.[1] }))
        .filter((e): e is { name: string; n: string } => e.n !== undefined)
        .sort((a, b) => Number(a.n) - Number(b.n))
        .map((e) => `${dir}/${e.name}`);
    } catch {
      return [];
    }
  };
  let paths = await numbered(options.devDir, /^accel(\d+)$/);
  if (paths.length === 0) paths = await numbered(`${options.devDir}/vfio`, /^(\d+)$/);
  const chips = paths.map((path, index) => ({ index, type, path }));
  return { found: chips.length > 0, source, devices: chips, warnings: [] };
}
