/**
 * What an attempt needs from the ledger, computed once per Resources: CPU in milli-cores, memory in
 * bytes, whole cores to pin, and an accelerator requirement (count, model, MIG profile or TPU chips).
 * @module
 */
import type { Resources } from "../api/resources.js";

/** An accelerator requirement, normalised. */
export interface DeviceNeed {
  readonly kind: "gpu" | "tpu";
  /** Whole GPUs, MIG slices, or TPU chips. */
  readonly count: number;
  /** The requested model (`"A100 80G"`, `"V5P"`), or `undefined` for any. */
  readonly model: string | undefined;
  /** A MIG profile (GPUs) or a slice topology (TPUs), or `undefined`. */
  readonly partition: string | undefined;
  /**
   * A share of one whole GPU in thousandths (`GPU_SHARE_UNITS`), or `undefined` for whole devices
   * (then `count` is 1).
   */
  readonly shareUnits: number | undefined;
  /** How a message names it: `2 x A100 80G`, `1 x any gpu (1g.10gb)`, `V5P slice 2x2x1 (4 chips)`. */
  readonly label: string;
  /** A key shared by every need with the same device requirement. */
  readonly key: string;
}

/** What one attempt asks the ledger for. */
export interface Needs {
  readonly cpuMilli: number;
  readonly memoryBytes: number;
  /** Whole cores to pin (0: no pinning). */
  readonly pinCores: number;
  readonly device: DeviceNeed | undefined;
}

/** The bits of {@link dimensionsOf}: which kinds of resource a need touches. */
export const Dimension = { cpu: 1, memory: 2, gpu: 4, tpu: 8 } as const;

/** Asks for nothing: admitted at once, without touching the ledger. */
export const noNeeds: Needs = Object.freeze({
  cpuMilli: 0,
  memoryBytes: 0,
  pinCores: 0,
  device: undefined,
});

/** Whether `needs` asks for nothing. */
export function isEmpty(needs: Needs): boolean {
  return (
    needs.cpuMilli === 0 &&
    needs.memoryBytes === 0 &&
    needs.pinCores === 0 &&
    needs.device === undefined
  );
}

/** A bitmask of {@link Dimension}s the need touches. */
export function dimensionsOf(needs: Needs): number {
  return (
    (needs.cpuMilli > 0 || needs.pinCores > 0 ? Dimension.cpu : 0) |
    (needs.memoryBytes > 0 ? Dimension.memory : 0) |
    (needs.device?.kind === "gpu" ? Dimension.gpu : 0) |
    (needs.device?.kind === "tpu" ? Dimension.tpu : 0)
  );
}

/** Chips in a TPU slice topology: `"2x2x1"` → 4, `"2x4"` → 8; `undefined` when not a topology. */
export function topologyChips(partition: string): number | undefined {
  if (!/^\d+(x\d+)+$/.test(partition)) return undefined;
  return partition.split("x").reduce((n, d) => n * Number(d), 1);
}

function deviceNeed(resources: Resources): DeviceNeed | undefined {
  const device = resources.getDevice();
  if (device === null) return undefined;
  const kind = device.kind ?? (/^v\d/i.test(device.device ?? "") ? "tpu" : "gpu");
  const model = device.device;
  const partition = device.partition;
  if (kind === "tpu") {
    const perSlice = partition === undefined ? 1 : (topologyChips(partition) ?? 1);
    const count = perSlice * device.quantity;
    const label = `${model ?? "TPU"}${partition ? ` slice ${partition}` : ""} (${count} chip${count === 1 ? "" : "s"})`;
    return {
      kind,
      count,
      model,
      partition,
      shareUnits: undefined,
      label,
      key: `tpu|${model}|${count}`,
    };
  }
  const shareUnits = device.shareUnits;
  const label =
    shareUnits === undefined
      ? `${device.quantity} x ${model ?? "any GPU"}${partition ? ` (${partition})` : ""}`
      : `${device.fraction} of one ${model ?? "GPU"}`;
  return {
    kind,
    count: device.quantity,
    model,
    partition: partition?.toLowerCase(),
    shareUnits,
    label,
    key: `gpu|${model}|${partition}|${device.quantity}`,
  };
}

const cache = new WeakMap<Resources, Needs>();
const pinnedCache = new WeakMap<Resources, Needs>();
const pinOnly: Needs = Object.freeze({ ...noNeeds, cpuMilli: 1000, pinCores: 1 });

/**
 * The ledger's view of a task's Resources. Only what is asked for counts: a task without a `cpu`
 * request takes no CPU from the ledger (its pool bounds it). With `pinCpus`, every task takes
 * whole cores (at least one).
 *
 * @example
 * ```ts
 * needsOf(new Resources({ cpu: "500m", gpu: "H100:2" }), false);
 * // { cpuMilli: 500, memoryBytes: 0, pinCores: 0, device: { kind: "gpu", count: 2, model: "H100", … } }
 * ```
 */
export function needsOf(resources: Resources | undefined, pinCpus: boolean): Needs {
  if (resources === undefined) return pinCpus ? pinOnly : noNeeds;
  const memo = pinCpus ? pinnedCache : cache;
  const known = memo.get(resources);
  if (known !== undefined) return known;
  const cpu = resources.cpuRequest ?? resources.cpuLimit;
  const pinCores = pinCpus ? Math.max(1, Math.ceil(cpu ?? 1)) : 0;
  const needs: Needs = Object.freeze({
    cpuMilli: pinCpus ? pinCores * 1000 : Math.round((cpu ?? 0) * 1000),
    memoryBytes: resources.memoryRequestBytes ?? resources.memoryLimitBytes ?? 0,
    pinCores,
    device: deviceNeed(resources),
  });
  memo.set(resources, needs);
  return needs;
}
