/**
 * The admission seam: before an attempt runs, the controller asks the scheduler for what the
 * task's Resources ask for; the lease is returned when the attempt ends, whatever the outcome.
 * @module
 */
import type { Resources } from "../api/resources.js";

/** What one attempt asks to be admitted with. */
export interface AdmissionRequest {
  readonly taskName: string;
  readonly resources: Resources | undefined;
  /** Give up waiting after this long (the task's `maxQueuedTime`). */
  readonly maxQueuedTimeMs: number | undefined;
  readonly signal: AbortSignal;
}

/** What an admitted attempt holds until it ends. */
export interface Lease {
  /** Device ids assigned to the attempt (GPU uuids, MIG uuids, TPU chips). */
  readonly devices: readonly string[];
  /** Extra environment variables that pin the attempt to its devices. */
  readonly env: Readonly<Record<string, string>>;
  /** Gives everything back. Idempotent. */
  release(): void;
}

/** Admits attempts against what the host has. */
export interface Scheduler {
  admit(request: AdmissionRequest): Promise<Lease>;
}

const noLease: Lease = Object.freeze({ devices: [], env: {}, release() {} });

/** Admits everything at once: the engine's default until the resource scheduler is configured. */
export const admitAll: Scheduler = {
  admit: () => Promise.resolve(noLease),
};
