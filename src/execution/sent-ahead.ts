/**
 * Attempts sent ahead to a thread worker. When every worker of a pool is busy with short bodies,
 * the pool sends the next attempts to a worker before its slot frees: the worker holds them and
 * starts the first as the body before it ends (or awaits, or calls a task), without waiting for a
 * round trip through the controller's thread. A worker that always has its next attempt at hand
 * does not go to sleep between bodies, and the controller does not pay to wake it for each one.
 *
 * Who starts a held attempt is settled through memory both threads share, one slot per held
 * attempt holding its token: the worker takes the token to start it, the pool takes it to call
 * it back (to another worker, when the body in front runs long; to the queue, when its worker is
 * stopped). Whoever takes it first wins, without a message, so an attempt is never both started
 * and called back, and a worker stuck in a body cannot keep its held attempts.
 * @module
 */

/** Bodies whose task's last run was shorter than this (ms) may have attempts sent ahead behind them. */
export const aheadMs = 2;

/** At most this many attempts are held by one worker. */
export const aheadDepth = 16;

/** The shared slots of one worker's held attempts. */
export function aheadSlots(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(aheadDepth * Int32Array.BYTES_PER_ELEMENT));
}

/** A free slot (its last token was taken, by the worker or by the pool), or -1. */
export function freeSlot(slots: Int32Array): number {
  for (let slot = 0; slot < slots.length; slot++) if (Atomics.load(slots, slot) === 0) return slot;
  return -1;
}

/** The token of job `job` in its slot (never 0, which marks a free slot). */
function tokenOf(job: number): number {
  return (job % 0x7ffffffe) + 1;
}

/** Puts job `job`'s token in `slot` (the pool, as it sends the attempt ahead). */
export function hold(slots: Int32Array, slot: number, job: number): void {
  Atomics.store(slots, slot, tokenOf(job));
}

/**
 * Takes job `job`'s token out of `slot`: true for the first caller (the worker, to start it; or
 * the pool, to call it back), false for the other.
 */
export function claim(slots: Int32Array, slot: number, job: number): boolean {
  const token = tokenOf(job);
  return Atomics.compareExchange(slots, slot, token, 0) === token;
}

/** A `run` message as the worker's held attempts see it. */
export interface AheadMessage {
  readonly job: number;
  /** The job this one was sent ahead behind. */
  readonly after?: number;
  /** Its slot in the worker's shared slots (with `after`). */
  readonly slot?: number;
  /** The worker's shared slots, sent along with its first attempt sent ahead. */
  readonly slots?: Int32Array;
}

/** The worker's side: holds attempts sent ahead and starts each when the one before it lets go. */
export class HeldAttempts<M extends AheadMessage> {
  readonly #start: (message: M) => void;
  #slots: Int32Array | undefined;
  /** Jobs started or held that have not yet ended, awaited or called a task. */
  readonly #pending = new Set<number>();
  /** Attempts held, by the job whose letting go starts them. */
  readonly #held = new Map<number, M>();

  constructor(start: (message: M) => void) {
    this.#start = start;
  }

  /** A `run` message arrived: started now, or held behind the job it names. */
  arrived(message: M): void {
    if (message.slots !== undefined) this.#slots = message.slots;
    const after = message.after;
    if (after === undefined) this.#run(message);
    else if (this.#pending.has(after)) {
      this.#pending.add(message.job);
      this.#held.set(after, message);
    } else this.#tryStart(message);
  }

  /** Job `job` let go of its slot (ended, awaits, or called a task): the attempt behind it starts. */
  letGo(job: number): void {
    if (!this.#pending.delete(job)) return;
    this.#next(job);
  }

  #next(job: number): void {
    const next = this.#held.get(job);
    if (next === undefined) return;
    this.#held.delete(job);
    this.#tryStart(next);
  }

  #tryStart(message: M): void {
    if (claim(this.#slots as Int32Array, message.slot as number, message.job)) {
      this.#run(message);
      return;
    }
    // Taken back by the pool (stopped, or called back): the one held behind it waits no more.
    this.#pending.delete(message.job);
    this.#next(message.job);
  }

  #run(message: M): void {
    this.#pending.add(message.job);
    this.#start(message);
  }
}
