/**
 * The pool's side of sending attempts ahead (sent-ahead.ts holds the shared slots and tokens, and
 * the worker's side): which busy thread worker takes the next attempt when none has a slot free,
 * the attempts each worker holds, which of them have started, and calling them back when the
 * body in front of them runs long.
 * @module
 */
import {
  freeWorker,
  type Job,
  markStarted,
  type PooledWorker,
  type SlotLimits,
} from "./pooled-worker.js";
import { taskKey } from "./run-message.js";
import { aheadDepth, aheadMs, claim, freeSlot, hold } from "./sent-ahead.js";

/** What sending ahead needs of its pool when it calls attempts back. */
export interface AheadPool {
  /** Takes `job` off its worker (which no longer holds it) and puts it at the queue's front. */
  putBack(job: Job): void;
  /** Hands queued attempts to workers. */
  pump(): void;
}

/** Attempts sent ahead to the workers of one pool. */
export class AheadSender {
  readonly #workers: ReadonlySet<PooledWorker>;
  readonly #limits: SlotLimits;
  readonly #pool: AheadPool;
  /** How long each task's last body ran (ms, as its worker timed it). */
  readonly #lastRunMs = new Map<number, number>();
  /** Attempts sent ahead, on all workers. */
  #held = 0;
  /** The next {@link check}, while one is due. */
  #timer: NodeJS.Timeout | undefined;

  /** Sends ahead to `workers` (the pool's own set, as it changes), within `limits`. */
  constructor(workers: ReadonlySet<PooledWorker>, limits: SlotLimits, pool: AheadPool) {
    this.#workers = workers;
    this.#limits = limits;
    this.#pool = pool;
  }

  /** A body of `job`'s task ran for `runMs` (as its worker timed it). */
  ran(job: Job, runMs: number): void {
    this.#lastRunMs.set(taskKey(job.request.template), runMs);
  }

  /**
   * When no worker has a free slot: the worker to send the next attempt ahead to, where it starts
   * as the body before it ends, without waiting for a round trip through this thread. Only behind
   * one running body (no other attempt on the worker) of a task whose last body took under
   * {@link aheadMs}, and only as many attempts as that run time fits into {@link aheadMs} (at
   * most {@link aheadDepth}). A body that runs long after all has them called back
   * ({@link check}).
   */
  pick(): PooledWorker | undefined {
    let best: PooledWorker | undefined;
    for (const worker of this.#workers) {
      const { held } = worker;
      if (worker.aheadSlots === undefined || !worker.ready || worker.retired) continue;
      if (held.length >= aheadDepth || worker.jobs.size !== 1 + held.length) continue;
      if (best !== undefined && held.length >= best.held.length) continue;
      const front = worker.jobs.values().next().value as Job;
      if (front.startedAt < 0 || front.yielded || front.waitingCalls > 0) continue;
      const last = this.#lastRunMs.get(taskKey(front.request.template));
      if (last === undefined || (held.length + 1) * last > aheadMs) continue;
      if (freeSlot(worker.aheadSlots) >= 0) best = worker;
    }
    return best;
  }

  /** Holds `job` on `worker` behind its last held attempt, or behind its running body. */
  send(job: Job, worker: PooledWorker): void {
    const slots = worker.aheadSlots as Int32Array;
    const slot = freeSlot(slots);
    job.after = worker.held.at(-1) ?? (worker.jobs.values().next().value as Job);
    job.aheadSlot = slot;
    hold(slots, slot, job.id);
    worker.held.push(job);
    this.#held++;
  }

  /** Job `id` of `worker` let go of its slot: the attempt held behind it has started. */
  letGo(worker: PooledWorker, id: number): void {
    if (worker.held[0]?.after?.id === id) this.#started(worker, 1);
  }

  /** Held `job` has left `worker` (stopped, or called back). */
  drop(worker: PooledWorker, job: Job): void {
    // The one held behind it now waits for what this one waited for (as the worker does).
    const { held } = worker;
    const at = held.indexOf(job);
    const next = held[at + 1];
    if (next !== undefined) next.after = job.after;
    held.splice(at, 1);
    this.#held--;
    job.after = undefined;
  }

  /**
   * Held `job` was aborted: true when the pool took its token first, so that it never starts.
   * Otherwise the worker has started it, and the ones held before it.
   */
  stop(worker: PooledWorker, job: Job): boolean {
    const at = worker.held.indexOf(job);
    // Not started: the worker skips it when its turn comes, and starts the one behind it.
    if (claim(worker.aheadSlots as Int32Array, job.aheadSlot, job.id)) return true;
    this.#started(worker, at + 1);
    return false;
  }

  /**
   * While a worker has a free slot, attempts sent ahead that wait behind a body running past
   * {@link aheadMs} are called back to the queue (and go to that worker). Checked as the pump
   * runs, and every {@link aheadMs} while a worker is free and attempts wait behind younger
   * bodies; a worker that frees up later runs the pump.
   */
  readonly check = (): void => {
    this.#timer = undefined;
    if (this.#held === 0 || freeWorker(this.#workers, this.#limits) === undefined) return;
    const now = performance.now();
    let young = false;
    let called = false;
    for (const worker of this.#workers) {
      if (worker.held.length === 0) continue;
      const front = worker.jobs.values().next().value as Job;
      if (now - front.startedAt <= aheadMs) young = true;
      else if (this.callBack(worker) > 0) called = true;
    }
    if (called) this.#pool.pump();
    else if (young) this.#timer ??= setTimeout(this.check, aheadMs).unref();
  };

  /**
   * Calls back the attempts sent ahead to `worker`, from the last: each whose token the pool
   * takes goes back to the front of the queue. The first it cannot take (and all before it) the
   * worker has started; they stay held until the messages that ended the ones before them
   * arrive, so the record has each one's start after the end before it. Returns how many came
   * back.
   */
  callBack(worker: PooledWorker): number {
    const { held } = worker;
    const slots = worker.aheadSlots as Int32Array;
    let back = 0;
    // From the last: each goes in front of the one after it, so the queue keeps their order.
    for (let job = held.at(-1); job !== undefined; job = held.at(-1)) {
      if (!claim(slots, job.aheadSlot, job.id)) break;
      this.#pool.putBack(job);
      back++;
    }
    return back;
  }

  /** The first `count` attempts held by `worker` have started (it took their tokens). */
  #started(worker: PooledWorker, count: number): void {
    for (let i = 0; i < count; i++) {
      const job = worker.held.shift() as Job;
      this.#held--;
      job.after = undefined;
      worker.active++;
      markStarted(job);
    }
  }
}
