/**
 * The local resource scheduler: admits attempts against the host's ledger in arrival order.
 *
 * Fairness is FIFO per kind of resource: a waiter that does not fit blocks every later waiter that
 * needs any of the same kinds (CPU, memory, GPU, TPU), so a large request is never overtaken forever
 * by small ones; later waiters that need none of those kinds may still go ahead. A request this host
 * can never satisfy fails at once; a waiter past its `maxQueuedTime` fails with TaskTimeoutError.
 * @module
 */
import { InsufficientResourcesError, TaskTimeoutError } from "../errors.js";
import { type CancelTimer, type Clock, formatMs, systemClock } from "../internal/time.js";
import { type HostInventory, hostInventory } from "./inventory.js";
import { type Grant, Ledger, type LedgerUsage } from "./ledger.js";
import { dimensionsOf, isEmpty, type Needs, needsOf } from "./needs.js";
import { pinningEnv } from "./pinning.js";
import { type AdmissionRequest, type Lease, noLease, type Scheduler } from "./scheduler.js";

interface Waiter {
  readonly needs: Needs;
  readonly mask: number;
  readonly grant: (grant: Grant) => void;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

/** An admitted attempt's hold on the ledger. */
class LocalLease implements Lease {
  readonly devices;
  readonly cpus;
  readonly #scheduler: LocalScheduler;
  readonly #grant: Grant;
  #env: Readonly<Record<string, string>> | undefined;
  #lent = 0;
  #released = false;

  constructor(scheduler: LocalScheduler, grant: Grant) {
    this.#scheduler = scheduler;
    this.#grant = grant;
    this.devices = grant.devices;
    this.cpus = grant.cores;
  }

  get env(): Readonly<Record<string, string>> {
    this.#env ??= Object.freeze(pinningEnv(this.#grant.devices, this.#grant.cores));
    return this.#env;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#lent > 0) this.#scheduler.ledger.retakeCpu(this.#grant);
    this.#scheduler.ledger.give(this.#grant);
    this.#scheduler.pump();
  }

  lend(): void {
    if (this.#released || this.#lent++ > 0 || this.#grant.cpuMilli === 0) return;
    this.#scheduler.ledger.giveCpu(this.#grant);
    this.#scheduler.pump();
  }

  reclaim(): void {
    if (this.#released || this.#lent === 0 || --this.#lent > 0 || this.#grant.cpuMilli === 0) {
      return;
    }
    this.#scheduler.ledger.retakeCpu(this.#grant);
  }
}

/** Options of {@link LocalScheduler}. */
export interface LocalSchedulerOptions {
  /** What the host has. @default this process's detected inventory ({@link hostInventory}) */
  inventory?: HostInventory | Promise<HostInventory>;
}

/**
 * Admits attempts against a host inventory, FIFO per kind of resource.
 *
 * @example
 * ```ts
 * const scheduler = new LocalScheduler({ inventory: await detectInventory() });
 * const lease = await scheduler.admit({ taskName: "t", resources, maxQueuedTimeMs: undefined, signal });
 * try { … lease.env.CUDA_VISIBLE_DEVICES … } finally { lease.release(); }
 * ```
 */
export class LocalScheduler implements Scheduler {
  #ledger: Ledger | undefined;
  readonly #ready: Promise<Ledger>;
  #head: Waiter | undefined;
  #tail: Waiter | undefined;
  #queued = 0;
  /** How many waiters use each combination of resource kinds (index: the kinds bitmask). */
  readonly #byMask = new Array<number>(16).fill(0);

  constructor(options: LocalSchedulerOptions = {}) {
    const inventory = options.inventory ?? hostInventory();
    if ("cpus" in inventory) {
      this.#ledger = new Ledger(inventory);
      this.#ready = Promise.resolve(this.#ledger);
    } else {
      this.#ready = inventory.then((host) => {
        this.#ledger = new Ledger(host);
        return this.#ledger;
      });
      // An unreadable inventory surfaces on the first admission that needs it.
      this.#ready.catch(() => {});
    }
  }

  /** The ledger; only defined once the inventory is known. */
  get ledger(): Ledger {
    if (this.#ledger === undefined) throw new Error("The scheduler's inventory is not known yet.");
    return this.#ledger;
  }

  /** Resolves with the ledger once the inventory is detected. */
  ready(): Promise<Ledger> {
    return this.#ready;
  }

  /** How many attempts are waiting. */
  get queued(): number {
    return this.#queued;
  }

  /** What is held now; all zero when every lease was released. */
  usage(): LedgerUsage {
    return this.#ledger?.usage() ?? { cpuMilli: 0, memoryBytes: 0, devices: 0, cores: 0 };
  }

  /** What each waiting attempt asks for, in words, in queue order (`flyte-ts status`). */
  waitingFor(): string[] {
    const out: string[] = [];
    for (let w = this.#head; w !== undefined; w = w.next) out.push(describeNeeds(w.needs));
    return out;
  }

  admitNow(request: AdmissionRequest): Lease | undefined {
    return isEmpty(needsOf(request.resources, request.pinCpus === true)) ? noLease : undefined;
  }

  admit(request: AdmissionRequest): Promise<Lease> {
    const needs = needsOf(request.resources, request.pinCpus === true);
    if (isEmpty(needs)) return Promise.resolve(noLease);
    if (request.signal.aborted) return Promise.reject(request.signal.reason);
    const ledger = this.#ledger;
    if (ledger === undefined) return this.#ready.then(() => this.admit(request));
    const impossible = ledger.impossible(needs);
    if (impossible !== undefined) {
      return Promise.reject(
        new InsufficientResourcesError(
          `Task \`${request.taskName}\` asked for ${impossible}. Lower its \`Resources\`, or run it where the resources are (mode "hybrid").`,
        ),
      );
    }
    if (this.#head === undefined) {
      const grant = ledger.tryTake(needs);
      if (grant !== undefined) return Promise.resolve(new LocalLease(this, grant));
    }
    return this.#wait(request, needs);
  }

  #wait(request: AdmissionRequest, needs: Needs): Promise<Lease> {
    return new Promise<Lease>((resolve, reject) => {
      let cancelTimer: CancelTimer | undefined;
      const leave = (error: unknown) => {
        this.#unlink(waiter);
        cancelTimer?.();
        request.signal.removeEventListener("abort", onAbort);
        reject(error);
        // The waiter may have blocked others behind it.
        this.pump();
      };
      const onAbort = () => leave(request.signal.reason);
      const waiter: Waiter = {
        needs,
        mask: dimensionsOf(needs),
        prev: this.#tail,
        next: undefined,
        grant: (grant) => {
          cancelTimer?.();
          request.signal.removeEventListener("abort", onAbort);
          resolve(new LocalLease(this, grant));
        },
      };
      this.#link(waiter);
      request.signal.addEventListener("abort", onAbort, { once: true });
      const limitMs = request.maxQueuedTimeMs;
      if (limitMs !== undefined) {
        const clock: Clock = request.clock ?? systemClock;
        cancelTimer = clock.setTimer(limitMs, () =>
          leave(
            new TaskTimeoutError(
              `Task \`${request.taskName}\` waited past its maxQueuedTime of ${formatMs(limitMs)} for ${describeNeeds(needs)}, which other tasks held. ` +
                "Raise `maxQueuedTime` in the task's Timeout, or run fewer tasks that need these resources at once.",
            ),
          ),
        );
      }
      // Waiters ahead may be blocked on kinds of resource this one does not need.
      if (waiter.prev !== undefined) this.pump();
    });
  }

  /** Admits waiters in order while they fit, skipping only those whose resource kinds are not blocked. */
  pump(): void {
    const ledger = this.#ledger;
    if (ledger === undefined || this.#head === undefined) return;
    let blocked = 0;
    const remaining = [...this.#byMask];
    for (let waiter: Waiter | undefined = this.#head; waiter !== undefined; ) {
      const next: Waiter | undefined = waiter.next;
      remaining[waiter.mask] = (remaining[waiter.mask] ?? 1) - 1;
      if ((waiter.mask & blocked) === 0) {
        const grant = ledger.tryTake(waiter.needs);
        if (grant !== undefined) {
          this.#unlink(waiter);
          waiter.grant(grant);
        } else {
          blocked |= waiter.mask;
          // Stop when nobody further back could go ahead of the blocked.
          if (!remaining.some((n, mask) => n > 0 && (mask & blocked) === 0)) return;
        }
      }
      waiter = next;
    }
  }

  #link(waiter: Waiter): void {
    if (this.#tail === undefined) this.#head = waiter;
    else this.#tail.next = waiter;
    this.#tail = waiter;
    this.#queued++;
    this.#byMask[waiter.mask] = (this.#byMask[waiter.mask] ?? 0) + 1;
  }

  #unlink(waiter: Waiter): void {
    if (waiter.prev === undefined && this.#head !== waiter) return;
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#queued--;
    this.#byMask[waiter.mask] = (this.#byMask[waiter.mask] ?? 1) - 1;
  }
}

function describeNeeds(needs: Needs): string {
  const parts: string[] = [];
  if (needs.cpuMilli > 0) parts.push(`${needs.cpuMilli / 1000} CPU`);
  if (needs.memoryBytes > 0) parts.push(`${Math.round(needs.memoryBytes / 2 ** 20)} MiB of memory`);
  if (needs.device !== undefined) parts.push(needs.device.label);
  return parts.join(", ");
}
