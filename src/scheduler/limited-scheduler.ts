/**
 * Admission under limits: before the host's scheduler is asked for resources, an attempt takes a
 * slot of its run's `maxActionConcurrency`, then of its environment's (or task's)
 * `maxConcurrency`, then a reserved start of its `rateLimit`, in that order; the start counts in
 * the rate's window when the body really starts (the lease's `started`), so attempts that then
 * wait for a worker cannot start in a burst. Each wait names its limit to the attempt (the phase
 * `limited`, and the `maxQueuedTime` error). A task without limits in a run without
 * `maxActionConcurrency` goes straight to the host's scheduler.
 * @module
 */
import type { TaskLimits } from "../api/limits.js";
import { formatMs, systemClock } from "../internal/time.js";
import { type LimitBook, type RateGate, type RateTicket, SlotGate } from "./limit-gates.js";
import type { AdmissionRequest, Lease, Scheduler } from "./scheduler.js";

/** A lease that also holds limit slots: lent and given back with the resources. */
class LimitedLease implements Lease {
  readonly #inner: Lease;
  readonly #slots: readonly SlotGate[];
  readonly #ticket: RateTicket | undefined;
  #lent = 0;
  #released = false;

  constructor(inner: Lease, slots: readonly SlotGate[], ticket: RateTicket | undefined) {
    this.#inner = inner;
    this.#slots = slots;
    this.#ticket = ticket;
  }

  started(): void {
    this.#ticket?.start();
  }

  get devices() {
    return this.#inner.devices;
  }

  get cpus() {
    return this.#inner.cpus;
  }

  get env() {
    return this.#inner.env;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#ticket?.cancel();
    this.#inner.release();
    if (this.#lent > 0) return; // Lent slots were given back when lent.
    for (const slot of this.#slots) slot.give();
  }

  lend(): void {
    this.#inner.lend();
    if (this.#released || this.#lent++ > 0) return;
    for (const slot of this.#slots) slot.give();
  }

  reclaim(): void {
    this.#inner.reclaim();
    if (this.#released || this.#lent === 0 || --this.#lent > 0) return;
    for (const slot of this.#slots) slot.retake();
  }
}

/**
 * Wraps the host's scheduler for one run: the run's `maxActionConcurrency` (its own gate) and the
 * process-wide gates of `book` (environments' and tasks' `maxConcurrency` and `rateLimit`).
 *
 * @example
 * ```ts
 * const scheduler = new LimitedScheduler(engine.scheduler, engine.limits, 4);
 * ```
 */
export class LimitedScheduler implements Scheduler {
  readonly #inner: Scheduler;
  readonly #book: LimitBook;
  readonly #run: SlotGate | undefined;

  /** @param maxActionConcurrency the run's limit, or `undefined` for none */
  constructor(inner: Scheduler, book: LimitBook, maxActionConcurrency: number | undefined) {
    this.#inner = inner;
    this.#book = book;
    this.#run = maxActionConcurrency === undefined ? undefined : new SlotGate(maxActionConcurrency);
  }

  /** The run's gate, when it has `maxActionConcurrency` (tests read how many hold it). */
  get runSlots(): SlotGate | undefined {
    return this.#run;
  }

  admitNow(request: AdmissionRequest): Lease | undefined {
    if (request.limits === undefined && this.#run === undefined) {
      return this.#inner.admitNow?.(request);
    }
    return undefined;
  }

  async admit(request: AdmissionRequest): Promise<Lease> {
    const limits = request.limits;
    if (limits === undefined && this.#run === undefined) return this.#inner.admit(request);
    const taken: SlotGate[] = [];
    let named = false;
    const waitFor = async (gate: SlotGate, reason: string) => {
      if (!gate.tryTake()) {
        request.waiting?.(reason);
        named = true;
        await gate.take(request.signal);
      }
      taken.push(gate);
    };
    let lease: Lease | undefined;
    let ticket: RateTicket | undefined;
    try {
      if (this.#run !== undefined) {
        await waitFor(
          this.#run,
          `waiting for a slot of the run's maxActionConcurrency (${this.#run.max} action${this.#run.max === 1 ? "" : "s"} at once)`,
        );
      }
      const slots = limits === undefined ? undefined : this.#book.slotsOf(limits);
      if (slots !== undefined && limits?.concurrency !== undefined) {
        await waitFor(
          slots,
          `waiting for a slot of the maxConcurrency of ${limits.concurrency.scope} (${slots.max} at once, across runs)`,
        );
      }
      const rate = limits === undefined ? undefined : this.#book.rateOf(limits);
      if (rate !== undefined) {
        ticket = rate.tryTake(request.clock ?? systemClock);
        if (ticket === undefined) {
          ticket = await this.#rate(rate, limits as TaskLimits, request);
          named = true;
        }
      }
      // The resources: the wait, if any, is the host's (named by the default reason).
      if (named) request.waiting?.(undefined);
      lease = await this.#inner.admit(request);
      return new LimitedLease(lease, taken, ticket);
    } catch (error) {
      ticket?.cancel();
      lease?.release();
      for (const gate of taken) gate.give();
      throw error;
    }
  }

  #rate(gate: RateGate, limits: TaskLimits, request: AdmissionRequest): Promise<RateTicket> {
    const clock = request.clock ?? systemClock;
    const scope = limits.rate?.scope ?? "the task";
    request.waiting?.(
      `waiting for the rateLimit of ${scope} (${gate.max} per ${formatMs(gate.perMs)})`,
    );
    return gate.take(clock, request.signal);
  }
}
