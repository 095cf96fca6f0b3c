/**
 * Messages between the controller and a worker, sent in batches when they come in bursts. The
 * first message of a turn leaves at once (a lone call is never delayed); the ones that follow in
 * the same turn wait for the turn's end and leave together as one `batch` message. A fan-out
 * that issues 1,000 calls in one loop then wakes each worker once or twice instead of 1,000
 * times, and the controller is not taken off its core by every worker it wakes. Used on both
 * sides: the pool's handles (controller → worker) and the worker's own channel (worker →
 * controller).
 * @module
 */

/** Several messages sent as one, in order. */
export interface Batch<M> {
  readonly t: "batch";
  readonly messages: readonly M[];
}

/** What a batched sender needs: how to send now, and how to run a callback at the turn's end. */
export interface BatchedPostOptions<M> {
  readonly send: (message: M | Batch<M>) => void;
  /** Schedules the end of the current turn: `queueMicrotask` or `setImmediate`. */
  readonly atTurnEnd: (flush: () => void) => void;
}

/** Sends messages, batching the ones that follow the first in one turn. */
export class BatchedPost<M> {
  readonly #send: (message: M | Batch<M>) => void;
  readonly #atTurnEnd: (flush: () => void) => void;
  /** Messages waiting for the turn's end; `undefined` when no message left in this turn yet. */
  #queued: M[] | undefined;
  readonly #endTurn = () => {
    this.flush();
    this.#queued = undefined;
  };

  constructor(options: BatchedPostOptions<M>) {
    this.#send = options.send;
    this.#atTurnEnd = options.atTurnEnd;
  }

  /**
   * Sends `message`, now or at the turn's end. A message whose copy could fail (`safe` false: a
   * payload that is not plain data) is sent now, after the queued ones, so that its sender sees
   * the failure as it did without batching.
   */
  post(message: M, safe: boolean): void {
    const queued = this.#queued;
    if (queued === undefined) {
      this.#send(message);
      this.#queued = [];
      this.#atTurnEnd(this.#endTurn);
    } else if (safe) {
      queued.push(message);
    } else {
      this.flush();
      this.#send(message);
    }
  }

  /** Sends the queued messages now. */
  flush(): void {
    const queued = this.#queued;
    if (queued === undefined || queued.length === 0) return;
    this.#queued = [];
    this.#send(queued.length === 1 ? (queued[0] as M) : { t: "batch", messages: queued });
  }
}

/**
 * Whether `value` always survives structured cloning: primitives, byte arrays, and small arrays
 * and plain objects of those. Anything else (a class instance, a getter, a large structure) is
 * not looked into and counts as unsafe.
 */
export function alwaysClones(value: unknown, depth = 2): boolean {
  if (value === null || value === undefined) return true;
  switch (typeof value) {
    case "number":
    case "string":
    case "boolean":
    case "bigint":
      return true;
    case "object":
      break;
    default:
      return false;
  }
  if (ArrayBuffer.isView(value)) return true;
  if (depth === 0) return false;
  if (Array.isArray(value)) {
    if (value.length > 16) return false;
    for (const item of value) if (!alwaysClones(item, depth - 1)) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  let entries = 0;
  for (const key in value) {
    if (++entries > 16) return false;
    const property = Object.getOwnPropertyDescriptor(value, key);
    if (property === undefined || property.get !== undefined) return false;
    if (!alwaysClones(property.value, depth - 1)) return false;
  }
  return true;
}
