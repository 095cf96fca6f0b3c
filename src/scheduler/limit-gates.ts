/**
 * The gates that bound actions beyond the host's resources: a {@link SlotGate} (at most `max`
 * holders at once: a run's `maxActionConcurrency`, an environment's or task's `maxConcurrency`)
 * and a {@link RateGate} (at most `max` starts in any window). Both serve waiters first come,
 * first served. The {@link LimitBook} keeps the gates that hold across runs (one per scope and
 * setting); the engine owns it.
 * @module
 */
import type { TaskLimits } from "../api/limits.js";
import type { CancelTimer, Clock } from "../internal/time.js";

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

/** FIFO waiters that leave the queue when their signal aborts. */
class WaitQueue {
  readonly #waiters: Waiter[] = [];

  get length(): number {
    return this.#waiters.length;
  }

  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener("abort", waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Wakes the first waiter; false when there is none. */
  wakeFirst(): boolean {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return false;
    waiter.signal.removeEventListener("abort", waiter.onAbort);
    waiter.resolve();
    return true;
  }
}

/** At most `max` holders at once; a holder waiting on its children lends its slot. */
export class SlotGate {
  readonly max: number;
  #held = 0;
  readonly #queue = new WaitQueue();

  constructor(max: number) {
    this.max = max;
  }

  /** Slots held now (above `max` only while a resumed lender took its slot back). */
  get held(): number {
    return this.#held;
  }

  /** Attempts waiting for a slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Takes a slot now if one is free and nobody waits before; false otherwise. */
  tryTake(): boolean {
    if (this.#held >= this.max || this.#queue.length > 0) return false;
    this.#held++;
    return true;
  }

  /** Resolves once a slot is this caller's (handed over in arrival order). */
  take(signal: AbortSignal): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return this.#queue.wait(signal);
  }

  /** Gives a slot back: to the first waiter if any. */
  give(): void {
    // The slot passes to the waiter as is: the count of holders does not change.
    if (this.#held <= this.max && this.#queue.wakeFirst()) return;
    this.#held--;
  }

  /** A lender resumed: it takes its slot back at once, even past `max` (as lent CPUs are). */
  retake(): void {
    this.#held++;
  }
}

/** A start a {@link RateGate} let through: counted as reserved until the body starts. */
export interface RateTicket {
  /** The body started now: its start counts in the window from here. Idempotent. */
  start(): void;
  /** The attempt ended without starting its body: the reservation is given back. Idempotent. */
  cancel(): void;
}

/**
 * At most `max` bodies start in any window of `perMs` (a sliding window, in the clock's
 * milliseconds). An attempt let through holds a reservation until its body starts, and the start
 * is counted at that moment: attempts let through together that then wait for a worker cannot
 * start in a burst past the rate. Invariant: starts in the window plus reservations ≤ `max`.
 */
export class RateGate {
  readonly max: number;
  readonly perMs: number;
  /** Start times still in the window, oldest first. */
  readonly #starts: number[] = [];
  #reserved = 0;
  readonly #queue = new WaitQueue();
  #timer: CancelTimer | undefined;

  constructor(max: number, perMs: number) {
    this.max = max;
    this.perMs = perMs;
  }

  /** Attempts waiting for the rate. */
  get waiting(): number {
    return this.#queue.length;
  }

  #inWindow(now: number): number {
    while (this.#starts.length > 0 && (this.#starts[0] as number) <= now - this.perMs) {
      this.#starts.shift();
    }
    return this.#starts.length + this.#reserved;
  }

  #ticket(clock: Clock): RateTicket {
    let state: "reserved" | "started" | "cancelled" = "reserved";
    return {
      start: () => {
        if (state !== "reserved") return;
        state = "started";
        this.#reserved--;
        this.#starts.push(clock.now());
        this.#pump(clock);
      },
      cancel: () => {
        if (state !== "reserved") return;
        state = "cancelled";
        this.#reserved--;
        this.#pump(clock);
      },
    };
  }

  /** A ticket now if the rate allows and nobody waits before; `undefined` otherwise. */
  tryTake(clock: Clock): RateTicket | undefined {
    if (this.#queue.length > 0 || this.#inWindow(clock.now()) >= this.max) return undefined;
    this.#reserved++;
    return this.#ticket(clock);
  }

  /** Resolves with a ticket when this caller may start, in arrival order. */
  async take(clock: Clock, signal: AbortSignal): Promise<RateTicket> {
    const now = this.tryTake(clock);
    if (now !== undefined) return now;
    const waited = this.#queue.wait(signal);
    this.#pump(clock);
    await waited;
    // #pump reserved the place before waking this waiter.
    return this.#ticket(clock);
  }

  /** Lets waiters through while the window has room; sets a timer for when it next frees. */
  #pump(clock: Clock): void {
    while (this.#queue.length > 0 && this.#inWindow(clock.now()) < this.max) {
      this.#reserved++;
      this.#queue.wakeFirst();
    }
    if (this.#queue.length === 0 || this.#timer !== undefined || this.#starts.length === 0) return;
    const oldest = this.#starts[0] as number;
    this.#timer = clock.setTimer(Math.max(0, oldest + this.perMs - clock.now()), () => {
      this.#timer = undefined;
      this.#pump(clock);
    });
  }
}

/**
 * The gates that hold across runs, one per scope and setting: the environment `llm` with
 * `maxConcurrency: 2` is one gate for every run in the process. Owned by the engine.
 */
export class LimitBook {
  readonly #slots = new Map<string, SlotGate>();
  readonly #rates = new Map<string, RateGate>();

  /** The slot gate of `limits.concurrency`, or `undefined` when it sets none. */
  slotsOf(limits: TaskLimits): SlotGate | undefined {
    const c = limits.concurrency;
    if (c === undefined) return undefined;
    // A scope redefined with another max (an override, a reloaded module) gets a gate of its own.
    const key = `${c.scope}|${c.max}`;
    let gate = this.#slots.get(key);
    if (gate === undefined) {
      gate = new SlotGate(c.max);
      this.#slots.set(key, gate);
    }
    return gate;
  }

  /** The rate gate of `limits.rate`, or `undefined` when it sets none. */
  rateOf(limits: TaskLimits): RateGate | undefined {
    const r = limits.rate;
    if (r === undefined) return undefined;
    const key = `${r.scope}|${r.max}/${r.perMs}`;
    let gate = this.#rates.get(key);
    if (gate === undefined) {
      gate = new RateGate(r.max, r.perMs);
      this.#rates.set(key, gate);
    }
    return gate;
  }
}
