/**
 * NVIDIA GPUs through `nvidia-smi`: our own parsers of `--query-gpu=… --format=csv,noheader,nounits`
 * and `nvidia-smi -L` (MIG instances and their uuids). The base query asks only for fields every
 * driver knows, because one unknown field fails the whole command; extras are asked separately and
 * may fail.
 * @module
 */
import type { execFile as ExecFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import type { GpuInfo, MigInstance } from "./inventory.js";

/** Fields every driver we care about answers. */
export const BASE_FIELDS = ["index", "uuid", "name", "pci.bus_id", "memory.total"] as const;
/** Fields asked for separately; an old driver may reject one, which fails only this query. */
export const EXTRA_FIELDS = ["uuid", "mig.mode.current", "compute_cap"] as const;

/** What one probe found. */
export interface ProbeResult<T> {
  /** Whether the tool ran and answered. */
  readonly found: boolean;
  readonly source: string;
  readonly devices: readonly T[];
  readonly warnings: readonly string[];
}

const missing =
  /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions|Requested functionality has been deprecated)\]?$/i;

/**
 * Parses `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits` output into one record per
 * GPU, keyed by field name. `[N/A]`, `[Not Supported]` and friends become `null`.
 *
 * @example
 * ```ts
 * parseQueryCsv("0, NVIDIA L4, GPU-1a…\n", ["index", "name", "uuid"]);
 * // [{ index: "0", name: "NVIDIA L4", uuid: "GPU-1a…" }]
 * ```
 */
export function parseQueryCsv(
  text: string,
  fields: readonly string[],
): Record<string, string | null>[] {
  const rows: Record<string, string | null>[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const cells = line.split(",").map((cell) => cell.trim());
    // A product name never holds a comma in practice; if it ever did, join the surplus back
    // into the name column rather than shifting every later column.
    const surplus = cells.length - fields.length;
    const nameAt = fields.indexOf("name");
    if (surplus > 0 && nameAt >= 0) {
      cells.splice(nameAt, surplus + 1, cells.slice(nameAt, nameAt + surplus + 1).join(", "));
    }
    const row: Record<string, string | null> = {};
    fields.forEach((field, i) => {
      const cell = cells[i];
      row[field] = cell === undefined || cell === "" || missing.test(cell) ? null : cell;
    });
    rows.push(row);
  }
  return rows;
}

/** One GPU line of `nvidia-smi -L` with the MIG lines under it. */
export interface ListedGpu {
  readonly index: number;
  readonly name: string;
  readonly uuid: string;
  readonly mig: readonly MigInstance[];
}

const gpuLine = /^GPU\s+(\d+):\s+(.+?)\s+\(UUID:\s*([^)]+)\)\s*$/;
const migLine = /^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s+\(UUID:\s*([^)]+)\)\s*$/;

/**
 * Parses `nvidia-smi -L`: GPUs with their MIG instances (profile, index, `MIG-…` uuid).
 *
 * @example
 * ```ts
 * parseGpuList("GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-5135…)\n  MIG 1g.20gb     Device  0: (UUID: MIG-ce86…)\n");
 * ```
 */
export function parseGpuList(text: string): ListedGpu[] {
  const gpus: { index: number; name: string; uuid: string; mig: MigInstance[] }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const gpu = gpuLine.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2] ?? "", uuid: gpu[3] ?? "", mig: [] });
      continue;
    }
    const mig = migLine.exec(line);
    const owner = gpus.at(-1);
    if (mig && owner) {
      const profile = mig[1] ?? "";
      owner.mig.push({
        index: Number(mig[2]),
        uuid: mig[3] ?? "",
        profile,
        memoryBytes: profileMemoryBytes(profile),
      });
    }
  }
  return gpus;
}

/** The memory a MIG profile names: `"1g.10gb"` → 10 GiB; `undefined` when it names none. */
export function profileMemoryBytes(profile: string): number | undefined {
  const match = /\.(\d+)gb/i.exec(profile);
  return match ? Number(match[1]) * 2 ** 30 : undefined;
}

/** Builds the inventory's GPUs from the three answers (extras and list may be missing). */
export function nvidiaGpusFrom(
  base: readonly Record<string, string | null>[],
  extras: readonly Record<string, string | null>[],
  listed: readonly ListedGpu[],
): GpuInfo[] {
  return base.map((row, position) => {
    const uuid = row.uuid ?? "";
    const extra = extras.find((e) => e.uuid === uuid);
    const mig = listed.find((l) => l.uuid === uuid)?.mig ?? [];
    const memoryMiB = Number(row["memory.total"]);
    return {
      vendor: "nvidia",
      index: row.index === null || row.index === undefined ? position : Number(row.index),
      uuid,
      name: row.name ?? "NVIDIA GPU",
      memoryBytes: Number.isFinite(memoryMiB) && memoryMiB > 0 ? memoryMiB * 2 ** 20 : undefined,
      busId: row["pci.bus_id"] ?? undefined,
      migEnabled: extra?.["mig.mode.current"] === "Enabled" || mig.length > 0,
      mig,
    };
  });
}

/** Options of the probes that run a tool. */
export interface ToolOptions {
  readonly binary: string;
  readonly timeoutMs: number;
}

/** The outcome of running a tool: its stdout, or why it gave none. */
export type ToolAnswer =
  | { readonly ok: true; readonly stdout: string }
  | { readonly ok: false; readonly absent: boolean; readonly reason: string };

/** Runs a tool asynchronously with a time limit; never throws. */
export function runTool(
  binary: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<ToolAnswer> {
  if (!onPath(binary)) return Promise.resolve({ ok: false, absent: true, reason: "not found" });
  // Required here, not imported: importing flyte-ts (every worker does) must not load
  // child_process and the socket modules it brings for a probe that may never run.
  const { execFile } = createRequire(import.meta.url)("node:child_process") as {
    execFile: typeof ExecFile;
  };
  return new Promise((resolve) => {
    try {
      execFile(
        binary,
        args,
        { timeout: timeoutMs, maxBuffer: 16 * 2 ** 20, windowsHide: true },
        (error, stdout, stderr) => {
          if (error === null) {
            resolve({ ok: true, stdout: String(stdout) });
            return;
          }
          const code = (error as NodeJS.ErrnoException).code;
          const absent = code === "ENOENT" || code === "EACCES";
          const said = `${String(stdout)}${String(stderr)}`.trim().split("\n")[0] ?? "";
          const reason = error.killed
            ? `timed out after ${timeoutMs} ms`
            : absent
              ? "not found"
              : said || error.message;
          resolve({ ok: false, absent, reason });
        },
      );
    } catch (error) {
      resolve({ ok: false, absent: true, reason: String(error) });
    }
  });
}

/**
 * Whether a bare command name (no `/`) is an executable file in a `PATH` folder. Spawning one
 * that is absent still forks a process to find out, which every cold run paid twice (nvidia-smi,
 * rocm-smi) on a host without GPUs. A path is left to the spawn to judge.
 */
function onPath(binary: string): boolean {
  if (binary.includes("/") || process.platform === "win32") return true;
  for (const folder of (process.env.PATH ?? "").split(delimiter)) {
    if (folder === "") continue;
    try {
      accessSync(join(folder, binary), constants.X_OK);
      return true;
    } catch {
      // Not in this folder.
    }
  }
  return false;
}

/** Finds NVIDIA GPUs with nvidia-smi; no binary means no GPUs, a failure adds a warning. */
export async function detectNvidiaGpus(tool: ToolOptions): Promise<ProbeResult<GpuInfo>> {
  const source = "nvidia-smi";
  const format = "--format=csv,noheader,nounits";
  const base = await runTool(
    tool.binary,
    [`--query-gpu=${BASE_FIELDS.join(",")}`, format],
    tool.timeoutMs,
  );
  if (!base.ok) {
    return {
      found: false,
      source,
      devices: [],
      warnings:
        base.absent || /no devices were found/i.test(base.reason)
          ? []
          : [`nvidia-smi failed (${base.reason}); no NVIDIA GPUs assumed.`],
    };
  }
  const warnings: string[] = [];
  const [extras, list] = await Promise.all([
    runTool(tool.binary, [`--query-gpu=${EXTRA_FIELDS.join(",")}`, format], tool.timeoutMs),
    runTool(tool.binary, ["-L"], tool.timeoutMs),
  ]);
  let extraRows: Record<string, string | null>[] = [];
  if (extras.ok) extraRows = parseQueryCsv(extras.stdout, EXTRA_FIELDS);
  else {
    // An old driver rejects a field it does not know (e.g. compute_cap before R510): ask for MIG mode alone.
    const migOnly = await runTool(
      tool.binary,
      ["--query-gpu=uuid,mig.mode.current", format],
      tool.timeoutMs,
    );
    if (migOnly.ok) extraRows = parseQueryCsv(migOnly.stdout, ["uuid", "mig.mode.current"]);
    else warnings.push(`nvidia-smi could not report MIG mode (${extras.reason}); assumed off.`);
  }
  if (!list.ok) warnings.push(`nvidia-smi -L failed (${list.reason}); MIG instances unknown.`);
  const gpus = nvidiaGpusFrom(
    parseQueryCsv(base.stdout, BASE_FIELDS),
    extraRows,
    list.ok ? parseGpuList(list.stdout) : [],
  );
  return { found: true, source, devices: gpus, warnings };
}
