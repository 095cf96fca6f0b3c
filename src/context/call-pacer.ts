/**
 * Paces the task calls a run's bodies make on the controller's thread, so that a fan-out does
 * not hold the event loop. A call is issued at once (ids, record, cache, admission, dispatch) while
 * the current slice of the thread's time lasts (and for the slice's first 64 calls in any case);
 * once it is spent, calls are queued — a queued call costs four queue slots, a small record and
 * a promise — and issued in order, one slice per turn of the event loop.
 *
 * Without it, `Promise.all(items.map((x) => task(x)))` over 100k items issued every call in the
 * loop's one turn: seconds in which no worker's result, timer, live-view tick or "this body is
 * awaiting" report was handled, so I/O-bound bodies started one round trip at a time after it.
 * Order is kept: calls are issued first in, first out, so action ids (which count calls) are the
 * same as when each is issued at once.
 * @module
 */

/** How long calls are issued at once before the rest wait for the next turn. Milliseconds. */
export const callSliceMs = 4;

/**
 * Calls a slice issues at once however long they take: a small fan-out (a first call that opens
 * the cache, on a loaded machine) goes out in one turn, as it did before calls were paced, so
 * identical calls in it all miss the cache rather than some finding an earlier one's result.
 */
export const minCallsPerSlice = 64;

/**
 * How many attempts may wait in the executors' queues for a worker before further calls wait
 * here instead (as four queue slots and a promise, a fraction of an issued call's memory).
 * Issuing is resumed once half of them have left.
 */
export const maxUnplacedAttempts = 1024;

/** Issues a call now, unpaced; a throw rejects the promise. */
export function issueNow<T, I = undefined>(issue: (input: I) => Promise<T>, input?: I): Promise<T> {
  try {
    return issue(input as I);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Settles a queued call's promise. */
type Settle = (value: unknown) => void;

/** The slots of {@link CallPacer}'s queue that one call takes. */
const slotsPerCall = 4;

/** Options of {@link CallPacer}. */
export interface CallPacerOptions {
  /** The clock slices are measured with, in ms (tests inject one). @default performance.now */
  readonly now?: () => number;
  /** @default {@link callSliceMs} */
  readonly sliceMs?: number;
  /** @default {@link minCallsPerSlice} */
  readonly minPerSlice?: number;
  /** Hears the number of queued calls when it changed, after each slice (0 once all are issued). */
  readonly waiting?: (count: number) => void;
}

/** Issues calls now, or queued in order once the thread's slice is spent. */
export class CallPacer {
  readonly #now: () => number;
  readonly #sliceMs: number;
  /**
   * Queued calls, {@link slotsPerCall} slots each: the function that issues the call, its input,
   * and its promise's resolve and reject. Flat, not a closure per call: a fan-out of 100k
   * children keeps most of them queued here at once.
   */
  #queue: unknown[] = [];
  #head = 0;
  /** When the current slice began: the last drain, or the first call after an idle spell. */
  #sliceStart = Number.NEGATIVE_INFINITY;
  /** Calls issued at once in the current slice. */
  #inSlice = 0;
  readonly #minPerSlice: number;
  #draining = false;
  /** Whether issuing must wait (the executors' queues are full); see {@link holdWhile}. */
  #full: () => boolean = () => false;
  /** A drain stopped because `#full()` held; {@link wake} resumes it. */
  #held = false;
  readonly #drain = () => this.#drainSlice();

  readonly #waiting: (count: number) => void;
  /** The number of queued calls last told to `waiting`. */
  #told = 0;

  constructor(options: CallPacerOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#sliceMs = options.sliceMs ?? callSliceMs;
    this.#minPerSlice = options.minPerSlice ?? minCallsPerSlice;
    this.#waiting = options.waiting ?? (() => {});
  }

  /** Calls waiting to be issued. */
  get queued(): number {
    return (this.#queue.length - this.#head) / slotsPerCall;
  }

  /**
   * Whether a call made now is issued at once: none is queued, issuing is not held, and the
   * slice lasts. Otherwise it goes through {@link enqueue}.
   */
  ready(): boolean {
    if (this.#head !== this.#queue.length || this.#full()) return false;
    const now = this.#now();
    // A thread that was idle for longer than a slice starts a fresh one.
    if (now - this.#sliceStart >= 2 * this.#sliceMs && !this.#draining) {
      this.#sliceStart = now;
      this.#inSlice = 0;
    }
    if (this.#inSlice >= this.#minPerSlice && now - this.#sliceStart >= this.#sliceMs) return false;
    this.#inSlice++;
    return true;
  }

  /**
   * Queues a call; returns a promise of what `issue(input)` returns once it is issued (a throw
   * rejects it).
   */
  enqueue<T, I = undefined>(issue: (input: I) => Promise<T>, input?: I): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(issue, input, resolve, reject);
      if (!this.#draining) {
        this.#draining = true;
        setImmediate(this.#drain);
      }
    });
  }

  /** Issues the call now when {@link ready}, else queues it. A throw rejects the promise. */
  call<T, I = undefined>(issue: (input: I) => Promise<T>, input?: I): Promise<T> {
    return this.ready() ? issueNow(issue, input) : this.enqueue(issue, input);
  }

  /**
   * Queues calls instead of issuing them while `full()` holds; the owner calls {@link wake} once
   * it may no longer hold. Issued calls wait for workers (and hold memory) where queued ones only
   * wait: a fan-out of 100k children keeps a bounded number issued ahead of the workers.
   * Deadlock-free as long as what fills up empties without further calls: attempts waiting for
   * a worker need only running bodies to finish or await, and an awaiting body lends its slot.
   */
  holdWhile(full: () => boolean): void {
    this.#full = full;
  }

  /** Resumes issuing after {@link holdWhile}'s condition stopped it. */
  wake(): void {
    if (!this.#held) return;
    this.#held = false;
    setImmediate(this.#drain);
  }

  #drainSlice(): void {
    const start = this.#now();
    this.#sliceStart = start;
    this.#inSlice = 0;
    const queue = this.#queue;
    while (this.#head < queue.length) {
      if (this.#full()) {
        this.#held = true;
        this.#tell();
        return;
      }
      const at = this.#head;
      const issue = queue[at] as (input: unknown) => Promise<unknown>;
      const input = queue[at + 1];
      const resolve = queue[at + 2] as Settle;
      const reject = queue[at + 3] as Settle;
      queue[at] = queue[at + 1] = queue[at + 2] = queue[at + 3] = undefined;
      this.#head = at + slotsPerCall;
      try {
        resolve(issue(input));
      } catch (error) {
        reject(error);
      }
      if (this.#now() - start >= this.#sliceMs) break;
    }
    this.#tell();
    if (this.#head < queue.length) {
      setImmediate(this.#drain);
      return;
    }
    this.#queue = [];
    this.#head = 0;
    this.#draining = false;
  }

  #tell(): void {
    const count = this.queued;
    if (count === this.#told) return;
    this.#told = count;
    this.#waiting(count);
  }
}
