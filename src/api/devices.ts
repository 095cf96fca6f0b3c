/**
 * Accelerators a task can ask for: {@link Device}, and the {@link GPU} and {@link TPU} helpers that
 * build one from flyte's fixed lists of device types and partitions.
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";

/** The GPU models a task can name, as flyte spells them (plus `"H200"`). */
export const GPU_TYPES = ["T4", "A100", "A100 80G", "H100", "H200", "L4", "L40s"] as const;
/** A GPU model a task can name, e.g. `"A100"` or `"A100 80G"`. */
export type GpuType = (typeof GPU_TYPES)[number];

/** How many GPUs of one model a task may ask for: 1 to 8 (one node). */
export const GPU_QUANTITIES = [1, 2, 3, 4, 5, 6, 7, 8] as const;
/** A GPU count from 1 to 8. */
export type GpuQuantity = (typeof GPU_QUANTITIES)[number];

/** The TPU generations a task can name. */
export const TPU_TYPES = ["V5P", "V6E"] as const;
/** A TPU generation: `"V5P"` or `"V6E"`. */
export type TpuType = (typeof TPU_TYPES)[number];

/** The MIG profiles of an A100 (40 GB). */
export const A100_PARTITIONS = ["1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"] as const;
/** The MIG profiles of an A100 80G. */
export const A100_80G_PARTITIONS = ["1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"] as const;
/** The MIG profiles of an H100 (80 GB). */
export const H100_PARTITIONS = [
  "1g.10gb",
  "1g.20gb",
  "2g.20gb",
  "3g.40gb",
  "4g.40gb",
  "7g.80gb",
] as const;
/** The slice topologies (3-D) of a TPU v5p. */
export const V5P_PARTITIONS = [
  "2x2x1",
  "2x2x2",
  "2x4x4",
  "4x4x4",
  "4x4x8",
  "4x8x8",
  "8x8x8",
  "8x8x16",
  "8x16x16",
  "16x16x16",
  "16x16x24",
] as const;
/** The slice topologies (2-D) of a TPU v6e. */
export const V6E_PARTITIONS = ["1x1", "2x2", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16"] as const;

/** The partitions each GPU model accepts; models not listed accept any partition string. */
const gpuPartitions: Partial<Record<GpuType, readonly string[]>> = {
  A100: A100_PARTITIONS,
  "A100 80G": A100_80G_PARTITIONS,
  H100: H100_PARTITIONS,
};

const tpuPartitions: Record<TpuType, readonly string[]> = {
  V5P: V5P_PARTITIONS,
  V6E: V6E_PARTITIONS,
};

/** The family of an accelerator: `"gpu"` or `"tpu"`. */
export type DeviceKind = "gpu" | "tpu";

/** Options of {@link Device}. */
export interface DeviceOptions {
  /** How many devices. An integer of 1 or more. */
  quantity: number;
  /** The model, e.g. `"A100"`; any device of the family when left out. */
  device?: string;
  /** A slice of one device: a MIG profile such as `"1g.5gb"`, or a TPU topology such as `"2x2"`. */
  partition?: string;
  /** The accelerator family. Left out, the scheduler treats the device as a GPU. */
  kind?: DeviceKind;
  /**
   * A share of one GPU, above 0 and below 1 (Ray's `num_gpus=0.5`): tasks whose shares add up to
   * at most 1 run on the same device at once and see the same `CUDA_VISIBLE_DEVICES`. Counted in
   * thousandths (`1/3` counts as 0.333). Only with `quantity: 1`, not with a MIG `partition`, not
   * for TPUs. @default undefined (whole devices)
   */
  fraction?: number;
}

/** A fraction of a GPU is counted in this many units per device (no float drift). */
export const GPU_SHARE_UNITS = 1000;

/**
 * An accelerator requirement: how many devices, of which model and partition. Usually built with
 * {@link GPU} or {@link TPU}, or from a `Resources({ gpu })` value.
 *
 * @example
 * ```ts
 * new flyte.Resources({ gpu: new flyte.Device({ quantity: 2, device: "L4", kind: "gpu" }) });
 * ```
 */
export class Device {
  /** How many devices. */
  readonly quantity: number;
  /** The model, e.g. `"A100"`, or `undefined` for any. */
  readonly device: string | undefined;
  /** The slice of each device (MIG profile or TPU topology), or `undefined` for whole devices. */
  readonly partition: string | undefined;
  /** The accelerator family, or `undefined` when not said (treated as a GPU). */
  readonly kind: DeviceKind | undefined;
  /** The share of one GPU (above 0, below 1), or `undefined` for whole devices. */
  readonly fraction: number | undefined;

  /** @throws InvalidConfigError listing every invalid option. */
  constructor(options: DeviceOptions) {
    const problems = new Problems("Device");
    checkKeys(problems, options, ["quantity", "device", "partition", "kind", "fraction"]);
    const { quantity, device, partition, kind, fraction } = options ?? ({} as DeviceOptions);
    if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 1) {
      problems.add(
        "quantity",
        `Expected \`quantity\` to be an integer of 1 or more, got ${describe(quantity)}. Ask for at least one device, or leave \`gpu\` out of Resources.`,
      );
    }
    checkOptionalName(problems, "device", device);
    checkOptionalName(problems, "partition", partition);
    if (kind !== undefined && kind !== "gpu" && kind !== "tpu") {
      problems.add("kind", `Expected \`kind\` to be "gpu" or "tpu", got ${describe(kind)}.`);
    }
    checkFraction(problems, "fraction", fraction, { quantity, partition, kind });
    problems.throwIfAny();
    this.quantity = quantity;
    this.device = device;
    this.partition = partition;
    this.kind = kind;
    // A share of 1 is the whole device: exclusive, as any whole-device request.
    this.fraction = fraction === undefined || fraction === 1 ? undefined : fraction;
    Object.freeze(this);
  }

  /** The share in {@link GPU_SHARE_UNITS} (thousandths), or `undefined` for whole devices. */
  get shareUnits(): number | undefined {
    return this.fraction === undefined ? undefined : Math.round(this.fraction * GPU_SHARE_UNITS);
  }

  /** A short description such as `2 x A100 (1g.5gb)` or `1 x any gpu`. */
  toString(): string {
    const model = this.device ?? `any ${this.kind ?? "gpu"}`;
    if (this.fraction !== undefined) return `${this.fraction} of 1 x ${model}`;
    return `${this.quantity} x ${model}${this.partition ? ` (${this.partition})` : ""}`;
  }
}

/**
 * Checks a GPU share: a number above 0 and at most 1, at least 1/1000, of one whole GPU (no MIG
 * partition, no TPU, quantity 1).
 */
export function checkFraction(
  problems: Problems,
  path: string,
  fraction: unknown,
  with_: { quantity?: unknown; partition?: unknown; kind?: unknown },
): void {
  if (fraction === undefined) return;
  if (typeof fraction !== "number" || !Number.isFinite(fraction) || fraction <= 0 || fraction > 1) {
    problems.add(
      path,
      `Expected \`${path}\` to be a share of one GPU above 0 and at most 1 (e.g. 0.5), got ${describe(fraction)}. ` +
        "Ask for whole GPUs with an integer count instead of a fraction above 1.",
    );
    return;
  }
  if (Math.round(fraction * GPU_SHARE_UNITS) < 1) {
    problems.add(
      path,
      `Expected \`${path}\` to be at least 1/${GPU_SHARE_UNITS} of a GPU, got ${fraction}: shares are counted in thousandths.`,
    );
  }
  if (with_.kind === "tpu") {
    problems.add(path, "A TPU chip cannot be shared: leave `fraction` out for TPUs.");
  }
  if (with_.partition !== undefined) {
    problems.add(
      path,
      "A MIG slice cannot be shared: give either a MIG `partition` (an exclusive slice) or a `fraction` of a whole GPU, not both.",
    );
  }
  if (with_.quantity !== undefined && with_.quantity !== 1) {
    problems.add(
      path,
      `A fraction is a share of one GPU, so \`quantity\` must be 1, got ${describe(with_.quantity)}.`,
    );
  }
}

function checkOptionalName(problems: Problems, path: string, value: unknown): void {
  if (value !== undefined && (typeof value !== "string" || value.trim() === "")) {
    problems.add(
      path,
      `Expected \`${path}\` to be a non-empty string, got ${describe(value)}. Leave it out if any will do.`,
    );
  }
}

function quoteList(values: readonly (string | number)[]): string {
  return values.map((v) => JSON.stringify(v)).join(", ");
}

/**
 * Asks for `quantity` GPUs of one model, optionally a MIG partition of each.
 * Partitions are checked for A100, A100 80G and H100; other models accept any partition string.
 *
 * @param device the model, one of {@link GPU_TYPES}
 * @param quantity how many, 1 to 8
 * @param partition a MIG profile, e.g. `"1g.5gb"` on an A100, or `{ fraction }` for a share of
 *   one GPU (see {@link DeviceOptions.fraction})
 * @throws InvalidConfigError listing every invalid argument
 * @example
 * ```ts
 * new flyte.Resources({ gpu: flyte.GPU("A100", 1, "1g.5gb") });
 * new flyte.Resources({ gpu: flyte.GPU("H100", 1, { fraction: 0.5 }) }); // half an H100
 * ```
 */
export function GPU(
  device: GpuType,
  quantity: GpuQuantity,
  partition?: string | GpuShareOptions,
): Device {
  if (typeof partition === "object" && partition !== null) {
    const problems = new Problems("GPU");
    checkKeys(problems, partition, ["fraction"]);
    problems.throwIfAny();
    const made = GPU(device, quantity);
    if (partition.fraction === undefined) return made;
    return new Device({ quantity, device, kind: "gpu", fraction: partition.fraction });
  }
  const problems = new Problems("GPU");
  const known = (GPU_TYPES as readonly unknown[]).includes(device);
  if (!known) {
    problems.add(
      "device",
      `Invalid GPU type: expected \`device\` to be one of ${quoteList(GPU_TYPES)}, got ${describe(device)}.`,
    );
  }
  if (!(GPU_QUANTITIES as readonly unknown[]).includes(quantity)) {
    problems.add(
      "quantity",
      `Expected \`quantity\` to be an integer from 1 to 8, got ${describe(quantity)}. One task gets the GPUs of one node.`,
    );
  }
  const allowed = known ? gpuPartitions[device] : undefined;
  if (partition !== undefined && allowed && !allowed.includes(partition)) {
    problems.add(
      "partition",
      `Invalid partition for ${device}: expected one of ${quoteList(allowed)}, got ${describe(partition)}. Leave \`partition\` out to get whole GPUs.`,
    );
  } else if (partition !== undefined && (typeof partition !== "string" || partition === "")) {
    problems.add(
      "partition",
      `Expected \`partition\` to be a non-empty string, got ${describe(partition)}.`,
    );
  }
  problems.throwIfAny();
  return new Device({
    quantity,
    device,
    kind: "gpu",
    ...(partition === undefined ? {} : { partition }),
  });
}

/** The third argument of {@link GPU} for a share of one GPU. */
export interface GpuShareOptions {
  /** The share of one GPU, above 0 and at most 1 (see {@link DeviceOptions.fraction}). */
  fraction?: number;
}

/**
 * Asks for one TPU slice of generation `device`, optionally of a given topology.
 *
 * @param device `"V5P"` (3-D topologies such as `"2x2x1"`) or `"V6E"` (2-D such as `"2x4"`)
 * @param partition the slice topology, one of {@link V5P_PARTITIONS} or {@link V6E_PARTITIONS}
 * @throws InvalidConfigError listing every invalid argument
 * @example
 * ```ts
 * new flyte.Resources({ gpu: flyte.TPU("V6E", "2x4") });
 * ```
 */
export function TPU(device: TpuType, partition?: string): Device {
  const problems = new Problems("TPU");
  const known = (TPU_TYPES as readonly unknown[]).includes(device);
  if (!known) {
    problems.add(
      "device",
      `Invalid TPU type: expected \`device\` to be one of ${quoteList(TPU_TYPES)}, got ${describe(device)}.`,
    );
  }
  const allowed = known ? tpuPartitions[device] : undefined;
  if (partition !== undefined && allowed && !allowed.includes(partition)) {
    problems.add(
      "partition",
      `Invalid partition for ${device}: expected one of ${quoteList(allowed)}, got ${describe(partition)}.`,
    );
  }
  problems.throwIfAny();
  return new Device({
    quantity: 1,
    device,
    kind: "tpu",
    ...(partition === undefined ? {} : { partition }),
  });
}
