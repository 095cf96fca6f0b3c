/**
 * The ledger: what the host has and who holds what. CPU is counted in milli-cores, memory in bytes;
 * GPUs, MIG slices and TPU chips are slots counted in thousandths: a whole-device request takes a
 * free slot whole, a fractional request (`gpu: 0.5`) takes its share of a whole GPU that is free or
 * only shared (never of a MIG slice or a TPU chip); pinned cores are counted per core id. The
 * ledger only answers "does this fit now" and "could this ever fit"; queueing and fairness are the
 * scheduler's.
 * @module
 */
import { GPU_SHARE_UNITS } from "../api/devices.js";
import type { AssignedDevice } from "../context/context.js";
import type { HostInventory } from "./inventory.js";
import { matchesModel, matchesTpu } from "./models.js";
import type { DeviceNeed, Needs } from "./needs.js";

/** One device: a whole GPU, a MIG slice, or a TPU chip. */
interface Slot {
  readonly device: AssignedDevice;
  /** The product name matched against a requested model (a MIG slice: its parent's). */
  readonly model: string;
  readonly memoryBytes: number | undefined;
  /** Thousandths held: 0 free, {@link GPU_SHARE_UNITS} held whole (or shared up to full). */
  used: number;
  /** Whether the units held are shares (only then may another share be added). */
  shared: boolean;
}

/** What one admitted attempt took; given back exactly once. */
export interface Grant {
  readonly cpuMilli: number;
  readonly memoryBytes: number;
  readonly devices: readonly AssignedDevice[];
  readonly cores: readonly number[];
  /** @internal the slots behind `devices` */
  readonly slots: readonly Slot[];
  /** The share of the one slot held, in thousandths; 0 when the slots are held whole. */
  readonly shareUnits: number;
}

/** What is held right now (all zero when nothing leaked). */
export interface LedgerUsage {
  readonly cpuMilli: number;
  readonly memoryBytes: number;
  readonly devices: number;
  readonly cores: number;
}

/** The host's capacity and current holdings. */
export class Ledger {
  /** Capacity in milli-cores. */
  readonly cpuMilli: number;
  /** Capacity in bytes. */
  readonly memoryBytes: number;
  readonly inventory: HostInventory;
  #cpuFree: number;
  #memoryFree: number;
  readonly #slots: Slot[] = [];
  /** Per core id, how many holders pin it (more than one only while a lender reclaims). */
  readonly #coreHolds: number[];
  readonly #candidates = new Map<string, readonly (readonly Slot[])[]>();
  readonly #judged = new WeakMap<Needs, string | undefined>();

  constructor(inventory: HostInventory) {
    this.inventory = inventory;
    this.cpuMilli = Math.round(inventory.cpus * 1000);
    this.memoryBytes = inventory.memoryBytes;
    this.#cpuFree = this.cpuMilli;
    this.#memoryFree = this.memoryBytes;
    this.#coreHolds = new Array<number>(Math.max(1, Math.floor(inventory.cpus))).fill(0);
    for (const gpu of inventory.gpus) {
      if (!gpu.migEnabled) {
        this.#slots.push({
          device: {
            kind: "gpu",
            vendor: gpu.vendor,
            index: gpu.index,
            id: gpu.vendor === "nvidia" ? gpu.uuid : String(gpu.index),
            name: gpu.name,
            partition: undefined,
          },
          model: gpu.name,
          memoryBytes: gpu.memoryBytes,
          used: 0,
          shared: false,
        });
      }
      for (const mig of gpu.mig) {
        this.#slots.push({
          device: {
            kind: "mig",
            vendor: gpu.vendor,
            index: gpu.index,
            id: mig.uuid,
            name: gpu.name,
            partition: mig.profile,
          },
          model: gpu.name,
          memoryBytes: gpu.memoryBytes,
          used: 0,
          shared: false,
        });
      }
    }
    for (const chip of inventory.tpus) {
      this.#slots.push({
        device: {
          kind: "tpu",
          vendor: "google",
          index: chip.index,
          id: String(chip.index),
          name: chip.type,
          partition: undefined,
        },
        model: chip.type,
        memoryBytes: undefined,
        used: 0,
        shared: false,
      });
    }
  }

  /** Whole cores that can be pinned. */
  get cores(): number {
    return this.#coreHolds.length;
  }

  /**
   * The slots that could serve `need`, grouped so one grant never mixes vendors (or parent
   * models): a request is served from one group.
   */
  #groups(need: DeviceNeed): readonly (readonly Slot[])[] {
    const known = this.#candidates.get(need.key);
    if (known !== undefined) return known;
    const fits = this.#slots.filter((slot) => {
      const d = slot.device;
      if (need.kind === "tpu") return d.kind === "tpu" && matchesTpu(need.model ?? "tpu", d.name);
      if (d.kind === "tpu") return false;
      if (need.partition !== undefined && d.partition !== need.partition) return false;
      if (need.partition === undefined && d.kind !== "gpu") return false;
      return need.model === undefined || matchesModel(need.model, slot.model, slot.memoryBytes);
    });
    const byGroup = new Map<string, Slot[]>();
    for (const slot of fits) {
      const key = `${slot.device.vendor}|${slot.model}`;
      byGroup.set(key, [...(byGroup.get(key) ?? []), slot]);
    }
    const groups = [...byGroup.values()];
    this.#candidates.set(need.key, groups);
    return groups;
  }

  /**
   * Why `needs` can never be met on this host, or `undefined` when it can (once others give back).
   */
  impossible(needs: Needs): string | undefined {
    // Needs are memoised per Resources, so each distinct request is judged once.
    if (this.#judged.has(needs)) return this.#judged.get(needs);
    const verdict = this.#judge(needs);
    this.#judged.set(needs, verdict);
    return verdict;
  }

  #judge(needs: Needs): string | undefined {
    const problems: string[] = [];
    if (needs.cpuMilli > this.cpuMilli) {
      problems.push(`${needs.cpuMilli / 1000} CPUs but this host has ${this.cpuMilli / 1000}`);
    }
    if (needs.pinCores > this.cores) {
      problems.push(`${needs.pinCores} pinned cores but this host has ${this.cores}`);
    }
    if (needs.memoryBytes > this.memoryBytes) {
      problems.push(
        `${formatBytes(needs.memoryBytes)} of memory but this host has ${formatBytes(this.memoryBytes)}`,
      );
    }
    const need = needs.device;
    if (need !== undefined) {
      const most = Math.max(0, ...this.#groups(need).map((g) => g.length));
      if (need.shareUnits !== undefined && most === 0) {
        problems.push(
          `${need.label} but this host has no whole GPU to share (${this.describeDevices()})`,
        );
      } else if (need.kind === "gpu" && need.partition !== undefined && need.count > 1) {
        problems.push(
          `${need.label}, but a process can use only one MIG slice (CUDA shows it one MIG device); ask for 1`,
        );
      } else if (most < need.count) {
        problems.push(
          `${need.label} but this host has ${most === 0 ? "none" : most} (${this.describeDevices()})`,
        );
      }
    }
    return problems.length === 0 ? undefined : problems.join("; and ");
  }

  /** Takes what `needs` asks for if it is free now; `undefined` otherwise (nothing taken). */
  tryTake(needs: Needs): Grant | undefined {
    if (needs.cpuMilli > this.#cpuFree || needs.memoryBytes > this.#memoryFree) return undefined;
    let slots: Slot[] = [];
    const share = needs.device?.shareUnits ?? 0;
    if (share > 0) {
      const slot = this.#bestShare(needs.device as DeviceNeed, share);
      if (slot === undefined) return undefined;
      slots = [slot];
    } else if (needs.device !== undefined) {
      const count = needs.device.count;
      for (const group of this.#groups(needs.device)) {
        slots = [];
        for (const slot of group) {
          if (slot.used === 0) slots.push(slot);
          if (slots.length === count) break;
        }
        if (slots.length === count) break;
      }
      if (slots.length !== count) return undefined;
    }
    const cores: number[] = [];
    if (needs.pinCores > 0) {
      for (let id = 0; id < this.#coreHolds.length && cores.length < needs.pinCores; id++) {
        if (this.#coreHolds[id] === 0) cores.push(id);
      }
      if (cores.length < needs.pinCores) return undefined;
      for (const id of cores) this.#coreHolds[id] = 1;
    }
    const devices: AssignedDevice[] = [];
    for (const slot of slots) {
      if (share > 0) {
        slot.used += share;
        slot.shared = true;
        devices.push({ ...slot.device, share: share / GPU_SHARE_UNITS });
      } else {
        slot.used = GPU_SHARE_UNITS;
        devices.push(slot.device);
      }
    }
    this.#cpuFree -= needs.cpuMilli;
    this.#memoryFree -= needs.memoryBytes;
    return {
      cpuMilli: needs.cpuMilli,
      memoryBytes: needs.memoryBytes,
      devices,
      cores,
      slots,
      shareUnits: share,
    };
  }

  /**
   * The whole GPU a share of `units` fits on: the fullest that still has room (best fit, so shares
   * pack together and whole devices stay free for whole requests), lowest index first on a tie.
   */
  #bestShare(need: DeviceNeed, units: number): Slot | undefined {
    let best: Slot | undefined;
    for (const group of this.#groups(need)) {
      for (const slot of group) {
        if (slot.device.kind !== "gpu") continue;
        if (slot.used > 0 && !slot.shared) continue;
        if (slot.used + units > GPU_SHARE_UNITS) continue;
        if (best === undefined || slot.used > best.used) best = slot;
      }
    }
    return best;
  }

  /** Gives back everything in `grant` (call once per grant). */
  give(grant: Grant): void {
    this.giveCpu(grant);
    this.#memoryFree += grant.memoryBytes;
    for (const slot of grant.slots) {
      slot.used = grant.shareUnits > 0 ? slot.used - grant.shareUnits : 0;
      if (slot.used === 0) slot.shared = false;
    }
  }

  /**
   * Each GPU that is shared now, with the thousandths held (`flyte-ts status`, tests): `gpu0` →
   * 500 while two tasks hold a quarter each.
   */
  shares(): ReadonlyMap<string, number> {
    const out = new Map<string, number>();
    for (const slot of this.#slots) {
      if (slot.shared) out.set(`${slot.device.kind}${slot.device.index}`, slot.used);
    }
    return out;
  }

  /** Gives back only the CPU of `grant` (a holder waiting on children lends it). */
  giveCpu(grant: Grant): void {
    this.#cpuFree += grant.cpuMilli;
    for (const id of grant.cores) this.#coreHolds[id] = (this.#coreHolds[id] ?? 1) - 1;
  }

  /** Takes the CPU of `grant` back, even past capacity: a resumed holder must not wait. */
  retakeCpu(grant: Grant): void {
    this.#cpuFree -= grant.cpuMilli;
    for (const id of grant.cores) this.#coreHolds[id] = (this.#coreHolds[id] ?? 0) + 1;
  }

  /** What is held now. */
  usage(): LedgerUsage {
    return {
      cpuMilli: this.cpuMilli - this.#cpuFree,
      memoryBytes: this.memoryBytes - this.#memoryFree,
      devices: this.#slots.filter((s) => s.used > 0).length,
      cores: this.#coreHolds.reduce((n, h) => n + h, 0),
    };
  }

  /** The host's accelerators in words: `8 x NVIDIA H100 80GB HBM3`, `4 x v5p TPU chips`. */
  describeDevices(): string {
    const counts = new Map<string, number>();
    for (const slot of this.#slots) {
      const d = slot.device;
      const key =
        d.kind === "tpu"
          ? `${d.name} TPU chips`
          : d.kind === "mig"
            ? `${d.partition} MIG slices of ${d.name}`
            : d.name;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    if (counts.size === 0) return "no GPUs or TPUs";
    return [...counts].map(([what, n]) => `${n} x ${what}`).join(", ");
  }
}

/** `"4.0 GiB"`, `"512 MiB"`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
