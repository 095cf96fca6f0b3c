/**
 * What a task needs from its host: CPU, memory, an accelerator, ephemeral disk and shared memory.
 * Kubernetes quantity strings are parsed and checked here, once, for the local scheduler and the
 * Kubernetes emitter alike.
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";
import {
  checkFraction,
  Device,
  GPU,
  GPU_TYPES,
  type GpuQuantity,
  type GpuType,
} from "./devices.js";

/** A CPU amount: a number of cores (`2`, `0.5`) or a Kubernetes quantity string (`"2"`, `"500m"`). */
export type CpuValue = number | string;

/** Options of {@link Resources}. Every field is optional; a missing field asks for nothing. */
export interface ResourcesOptions {
  /**
   * CPU cores: a number, a quantity string such as `"500m"` (half a core), or a `[request, limit]` pair.
   * A single value is a request with no limit.
   */
  cpu?: CpuValue | readonly [CpuValue, CpuValue];
  /**
   * Memory in bytes as a quantity string: binary (`"512Mi"`, `"4Gi"`, or flyte's `"512MiB"`,
   * `"4GiB"`) or decimal (`"500M"`, `"2G"`, `"2GB"`) suffixes, or a `[request, limit]` pair. A
   * single value is a request with no limit. Emitted Jobs carry the Kubernetes spelling (`"4Gi"`).
   */
  memory?: string | readonly [string, string];
  /**
   * An accelerator: a GPU count (`1`; `0` asks for none), a share of one GPU (`0.5`, shared with
   * other tasks on the same device), a `"<type>:<count>"` string such as `"A100:2"`, or a
   * {@link Device} from {@link GPU} / {@link TPU}.
   */
  gpu?: number | string | Device;
  /** Ephemeral disk as a quantity string, e.g. `"10Gi"` or `"10GiB"`. */
  disk?: string;
  /** Size of `/dev/shm` as a quantity string, or `"auto"` to let the platform size it. */
  shm?: string;
}

const quantityPattern =
  /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

const suffixFactor: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

interface ParsedQuantity {
  readonly value: number;
  readonly suffix: string | undefined;
}

/** Parses a Kubernetes quantity; `undefined` when the text is not one. */
function parseQuantity(text: string): ParsedQuantity | undefined {
  const match = quantityPattern.exec(text.trim());
  if (!match) return undefined;
  const [, sign, digits, exponent, suffix] = match;
  const magnitude =
    Number(`${digits}${exponent ?? ""}`) * (suffix ? (suffixFactor[suffix] ?? 1) : 1);
  return { value: sign === "-" ? -magnitude : magnitude, suffix };
}

/**
 * Converts a CPU amount to cores: `2` → 2, `"0.5"` → 0.5, `"500m"` → 0.5.
 *
 * @param value a number of cores or a Kubernetes quantity string
 * @param name what to call the value in error messages
 * @throws TypeError when `value` is not a CPU amount; RangeError when it is negative
 * @example
 * ```ts
 * parseCpu("250m"); // 0.25
 * ```
 */
export function parseCpu(value: unknown, name = "cpu"): number {
  let cores: number | undefined;
  if (typeof value === "number") cores = Number.isFinite(value) ? value : undefined;
  else if (typeof value === "string") cores = parseQuantity(value)?.value;
  if (cores === undefined) {
    throw new TypeError(
      `Expected \`${name}\` to be a number of cores or a Kubernetes quantity string such as "2", "0.5" or "500m", got ${describe(value)}.`,
    );
  }
  if (cores < 0) {
    throw new RangeError(`Expected \`${name}\` to be 0 or more cores, got ${describe(value)}.`);
  }
  return cores;
}

const byteUnitPattern = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([KMGTPE])(i?)B$/i;

/**
 * The Kubernetes spelling of a byte amount written with a byte unit, as flyte's own examples do:
 * `"1GiB"` → `"1Gi"`, `"512MiB"` → `"512Mi"` (binary), `"2GB"` → `"2G"`, `"1KB"` → `"1k"`
 * (decimal). Units are read case-insensitively; any other text is returned unchanged, so a
 * Kubernetes quantity (`"4Gi"`, `"500M"`) passes through as it is.
 *
 * @example
 * ```ts
 * kubernetesQuantity("1GiB"); // "1Gi"
 * kubernetesQuantity("10GB"); // "10G"
 * ```
 */
export function kubernetesQuantity(text: string): string {
  const match = byteUnitPattern.exec(text.trim());
  if (!match) return text;
  const [, amount, prefix = "", binary] = match;
  const upper = prefix.toUpperCase();
  if (binary) return `${amount}${upper}i`;
  return `${amount}${upper === "K" ? "k" : upper}`;
}

/** Common spellings that are not byte quantities, with the one meant. */
function bytesHint(text: string): string {
  const match = /^([\d.]+)\s*([a-zA-Z]+)$/.exec(text.trim());
  const [, amount, unit] = match ?? [];
  if (amount === undefined || unit === undefined) return "";
  if (unit === "K") return ` Write "${amount}Ki" (binary, 1024-based) or "${amount}k" (decimal).`;
  return "";
}

/**
 * Converts a byte amount to bytes: `"1Gi"` → 1073741824, `"500M"` → 500000000, `"1e3"` → 1000,
 * `2048` → 2048. flyte's own spellings with a byte unit are read too: `"1GiB"` as `"1Gi"`,
 * `"2GB"` as `"2G"` (see {@link kubernetesQuantity}). Fractional results are rounded up to whole
 * bytes, as Kubernetes does.
 *
 * @param value a number of bytes or a quantity string (suffixes k M G T P E, Ki Mi Gi Ti Pi Ei,
 *   KB MB GB TB PB EB, KiB MiB GiB TiB PiB EiB)
 * @param name what to call the value in error messages
 * @throws TypeError when `value` is not a byte amount (including milli-bytes such as `"500m"`);
 *   RangeError when it is negative
 * @example
 * ```ts
 * parseQuantityBytes("512Mi"); // 536870912
 * ```
 */
export function parseQuantityBytes(value: unknown, name = "memory"): number {
  let bytes: number | undefined;
  if (typeof value === "number") bytes = Number.isFinite(value) ? value : undefined;
  else if (typeof value === "string") {
    const parsed = parseQuantity(kubernetesQuantity(value));
    if (parsed && (parsed.suffix === "m" || parsed.suffix === "u" || parsed.suffix === "n")) {
      throw new TypeError(
        `Expected \`${name}\` to be a byte amount, got ${describe(value)}, which means ${parsed.value} bytes ("${parsed.suffix}" is a fraction). Write "${value.trim().slice(0, -1)}M" or "${value.trim().slice(0, -1)}Mi".`,
      );
    }
    bytes = parsed?.value;
  }
  if (bytes === undefined) {
    throw new TypeError(
      `Expected \`${name}\` to be a quantity string such as "512Mi", "4Gi", "1GiB" or "500M", got ${describe(value)}.${typeof value === "string" ? bytesHint(value) : ""}`,
    );
  }
  if (bytes < 0) {
    throw new RangeError(`Expected \`${name}\` to be 0 bytes or more, got ${describe(value)}.`);
  }
  return Math.ceil(bytes);
}

interface Range {
  readonly request: number | undefined;
  readonly limit: number | undefined;
}

const noRange: Range = { request: undefined, limit: undefined };

/** Parses a scalar-or-pair option into request and limit, recording problems under `path`. */
function parseRange(
  problems: Problems,
  path: string,
  value: unknown,
  parse: (v: unknown, name: string) => number,
  expected: string,
  unit: (n: number) => string,
): Range {
  if (value === undefined) return noRange;
  if (Array.isArray(value)) {
    if (value.length !== 2) {
      problems.add(
        path,
        `Expected \`${path}\` to be ${expected}, got ${describe(value)}. A pair is [request, limit].`,
      );
      return noRange;
    }
    const request = problems.nested(`${path}[0]`, () => parse(value[0], `${path}[0]`));
    const limit = problems.nested(`${path}[1]`, () => parse(value[1], `${path}[1]`));
    if (request !== undefined && limit !== undefined && request > limit) {
      problems.add(
        path,
        `The \`${path}\` request (${unit(request)}) is above its limit (${unit(limit)}). Make the request at most the limit, or swap the pair: it is [request, limit].`,
      );
    }
    return { request, limit };
  }
  if (typeof value !== "number" && typeof value !== "string") {
    problems.add(path, `Expected \`${path}\` to be ${expected}, got ${describe(value)}.`);
    return noRange;
  }
  return { request: problems.nested(path, () => parse(value, path)), limit: undefined };
}

const gpuFormat = `a GPU count (an integer of 0 or more, or a share of one GPU between 0 and 1 such as 0.5), a string "<type>:<count>" with type one of ${GPU_TYPES.map((t) => JSON.stringify(t)).join(", ")} and count 1 to 8 (e.g. "A100:2"), or a Device from GPU() or TPU()`;

/** Reads the `gpu` option into a Device, or `null` when no accelerator is asked for. */
function parseGpu(problems: Problems, gpu: unknown): Device | null {
  if (gpu === undefined) return null;
  if (gpu instanceof Device) return gpu;
  if (typeof gpu === "number") {
    if (gpu > 0 && gpu < 1) {
      // Ray's num_gpus=0.5: a share of one GPU of any model.
      const before = new Problems("Resources");
      checkFraction(before, "gpu", gpu, {});
      if (!before.empty) {
        checkFraction(problems, "gpu", gpu, {});
        return null;
      }
      return new Device({ quantity: 1, kind: "gpu", fraction: gpu });
    }
    if (!Number.isInteger(gpu) || gpu < 0) {
      problems.add(
        "gpu",
        `Expected \`gpu\` to be ${gpuFormat}, got ${describe(gpu)}.${
          Number.isFinite(gpu) && gpu > 1
            ? " A fraction shares one GPU (0 < gpu < 1); above 1, ask for a whole number of GPUs."
            : ""
        }`,
      );
      return null;
    }
    // Upstream accepts gpu=0 and then crashes in get_device(); here 0 plainly means "no GPU".
    return gpu === 0 ? null : new Device({ quantity: gpu, kind: "gpu" });
  }
  if (typeof gpu === "string") {
    const colon = gpu.lastIndexOf(":");
    const type = gpu.slice(0, colon);
    const count = gpu.slice(colon + 1);
    if (colon > 0 && (GPU_TYPES as readonly string[]).includes(type) && /^[1-8]$/.test(count)) {
      return GPU(type as GpuType, Number(count) as GpuQuantity);
    }
  }
  problems.add("gpu", `Expected \`gpu\` to be ${gpuFormat}, got ${describe(gpu)}.`);
  return null;
}

/**
 * What a task needs from its host. The local scheduler admits a task only when its requests fit;
 * the Kubernetes emitter turns the same values into requests and limits.
 *
 * @example
 * ```ts
 * new flyte.Resources({ cpu: [1, 2], memory: "4Gi", gpu: "A100:1", disk: "10Gi", shm: "auto" });
 * ```
 */
export class Resources {
  /** The `cpu` option as given. */
  readonly cpu: CpuValue | readonly [CpuValue, CpuValue] | undefined;
  /** The `memory` option as given. */
  readonly memory: string | readonly [string, string] | undefined;
  /** The `gpu` option as given. */
  readonly gpu: number | string | Device | undefined;
  /** The `disk` option as given. */
  readonly disk: string | undefined;
  /** The `shm` option as given. */
  readonly shm: string | undefined;
  /** Requested CPU in cores (`"500m"` → 0.5), or `undefined` when not asked for. */
  readonly cpuRequest: number | undefined;
  /** CPU limit in cores; `undefined` unless `cpu` was a `[request, limit]` pair. */
  readonly cpuLimit: number | undefined;
  /** Requested memory in bytes, or `undefined` when not asked for. */
  readonly memoryRequestBytes: number | undefined;
  /** Memory limit in bytes; `undefined` unless `memory` was a `[request, limit]` pair. */
  readonly memoryLimitBytes: number | undefined;
  /** Ephemeral disk in bytes, or `undefined`. */
  readonly diskBytes: number | undefined;
  /** `/dev/shm` size in bytes, `"auto"`, or `undefined`. */
  readonly shmBytes: number | "auto" | undefined;
  readonly #device: Device | null;

  /** @throws InvalidConfigError listing every invalid option, each with its path. */
  constructor(options: ResourcesOptions = {}) {
    const problems = new Problems("Resources");
    checkKeys(problems, options, ["cpu", "memory", "gpu", "disk", "shm"]);
    const { cpu, memory, gpu, disk, shm } = (options ?? {}) as ResourcesOptions;
    const cpuRange = parseRange(
      problems,
      "cpu",
      cpu,
      parseCpu,
      `a number, a Kubernetes quantity string such as "500m", or a [request, limit] pair`,
      String,
    );
    let memoryRange = noRange;
    if (
      typeof memory === "number" ||
      (Array.isArray(memory) && memory.some((m) => typeof m === "number"))
    ) {
      problems.add(
        "memory",
        `Expected \`memory\` to be a quantity string such as "4Gi" or a [request, limit] pair of them, got ${describe(memory)}. A bare number is ambiguous: write "512Mi" or "4Gi".`,
      );
    } else {
      memoryRange = parseRange(
        problems,
        "memory",
        memory,
        parseQuantityBytes,
        `a Kubernetes quantity string such as "4Gi" or a [request, limit] pair`,
        (n) => `${n} bytes`,
      );
    }
    this.#device = parseGpu(problems, gpu);
    const diskBytes = optionalBytes(problems, "disk", disk, `"10Gi"`);
    const shmBytes =
      shm === "auto" ? "auto" : optionalBytes(problems, "shm", shm, `"1Gi" or "auto"`);
    problems.throwIfAny();

    this.cpu = Array.isArray(cpu)
      ? (Object.freeze([...cpu]) as readonly [CpuValue, CpuValue])
      : cpu;
    this.memory = Array.isArray(memory)
      ? (Object.freeze([...memory]) as readonly [string, string])
      : memory;
    this.gpu = gpu;
    this.disk = disk;
    this.shm = shm;
    this.cpuRequest = cpuRange.request;
    this.cpuLimit = cpuRange.limit;
    this.memoryRequestBytes = memoryRange.request;
    this.memoryLimitBytes = memoryRange.limit;
    this.diskBytes = diskBytes;
    this.shmBytes = shmBytes;
    Object.freeze(this);
  }

  /**
   * Returns `value` if it already is a Resources, else builds one from the options.
   * @example
   * ```ts
   * Resources.from({ cpu: 2 }).cpuRequest; // 2
   * ```
   */
  static from(value: Resources | ResourcesOptions): Resources {
    return value instanceof Resources ? value : new Resources(value);
  }

  /**
   * The accelerator asked for, or `null` for none. `gpu: 2` → two GPUs of any model;
   * `"A100:2"` → two A100s; a Device → that Device. `gpu: 0` → `null`.
   */
  getDevice(): Device | null {
    return this.#device;
  }

  /** The `/dev/shm` size string, `""` for `"auto"` (sized by the platform), or `null` when not asked for. */
  getSharedMemory(): string | null {
    if (this.shm === undefined) return null;
    return this.shm === "auto" ? "" : this.shm;
  }
}

function optionalBytes(
  problems: Problems,
  path: string,
  value: unknown,
  example: string,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    problems.add(
      path,
      `Expected \`${path}\` to be a quantity string such as ${example}, got ${describe(value)}.`,
    );
    return undefined;
  }
  return problems.nested(path, () => parseQuantityBytes(value, path));
}
