/**
 * The admission seam: before an attempt runs, the controller asks the scheduler for what the
 * task's Resources ask for; the lease is returned when the attempt ends, whatever the outcome.
 * @module
 */
import type { TaskLimits } from "../api/limits.js";
import type { Resources } from "../api/resources.js";
import type { AssignedDevice, ControllerChannel } from "../context/context.js";
import type { Clock } from "../internal/time.js";

/** What one attempt asks to be admitted with. */
export interface AdmissionRequest {
  readonly taskName: string;
  /** The action the attempt belongs to (`"a0"` for a run's root). */
  readonly action?: string;
  readonly resources: Resources | undefined;
  /** Give up waiting after this long (the task's `maxQueuedTime`). */
  readonly maxQueuedTimeMs: number | undefined;
  readonly signal: AbortSignal;
  /** The clock `maxQueuedTimeMs` is measured on. @default the system clock */
  readonly clock?: Clock;
  /** Pin the attempt to whole cores of its own (`withRunContext({ pinCpus: true })`). @default false */
  readonly pinCpus?: boolean;
  /** The task's `maxConcurrency` and `rateLimit`, when it has any. */
  readonly limits?: TaskLimits | undefined;
  /**
   * Told what the attempt waits for when a limit holds it (`undefined` once only resources are
   * left to wait for), so the attempt's phases and its `maxQueuedTime` error can name the limit.
   */
  readonly waiting?: ((reason: string | undefined) => void) | undefined;
}

/** What an admitted attempt holds until it ends. */
export interface Lease {
  /** Devices assigned to the attempt (GPUs, MIG slices, TPU chips), exclusive until release. */
  readonly devices: readonly AssignedDevice[];
  /** Core ids the attempt is pinned to (empty unless `pinCpus`). */
  readonly cpus: readonly number[];
  /** Extra environment variables that pin the attempt to its devices. */
  readonly env: Readonly<Record<string, string>>;
  /** Gives everything back. Idempotent. */
  release(): void;
  /**
   * The holder is waiting on its children: lend its CPU (and pinned cores) back so they can run.
   * Counted: every `lend()` is matched by one `reclaim()`. GPUs, TPUs and memory stay held.
   */
  lend(): void;
  /** The holder resumed: take the lent CPU back, at once, even past capacity. */
  reclaim(): void;
  /**
   * The attempt's body started: a `rateLimit` counts the start from now. Present only on leases
   * that hold a rate-limited start.
   */
  started?(): void;
}

/** Admits attempts against what the host has. */
export interface Scheduler {
  admit(request: AdmissionRequest): Promise<Lease>;
  /**
   * Answers at once, without a promise, when admission needs no waiting and no ledger (a task
   * that asks for nothing): the lease, or `undefined` to ask {@link Scheduler.admit}. Optional.
   */
  admitNow?(request: AdmissionRequest): Lease | undefined;
}

/** A lease holding nothing. */
export const noLease: Lease = Object.freeze({
  devices: [],
  cpus: [],
  env: {},
  release() {},
  lend() {},
  reclaim() {},
});

/** Admits everything at once: the engine's default until the resource scheduler is configured. */
export const admitAll: Scheduler = {
  admit: () => Promise.resolve(noLease),
  admitNow: () => noLease,
};

/**
 * Wraps an attempt's channel so that while its body awaits sub-actions, its lease's CPU is lent
 * back: a parent waiting on children must not hold the slot they need (nested fan-out on a bounded
 * host cannot deadlock). GPUs, TPUs and memory stay held.
 */
export function lendWhileWaiting(channel: ControllerChannel, lease: Lease): ControllerChannel {
  if (lease === noLease) return channel;
  return {
    submit(call, task) {
      lease.lend();
      const done = channel.submit(call, task);
      done.then(
        () => lease.reclaim(),
        () => lease.reclaim(),
      );
      return done;
    },
    recordTrace: (action, traceId, record) => channel.recordTrace(action, traceId, record),
    pacer: channel.pacer,
  };
}
