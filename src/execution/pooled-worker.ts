/**
 * What a worker pool keeps of each worker and of each attempt on it (a job): the slots a worker
 * has taken, the attempts it runs, holds or has lent its slot for, and which worker has a slot
 * free. The pool (worker-pool.ts) owns these records; its parts (worker-set.ts, ahead-sender.ts,
 * call-relay.ts) update them.
 * @module
 */
import type { AttemptAbort } from "./attempt-abort.js";
import type { ExecuteRequest } from "./executor.js";
import type { PoolOptions } from "./pool-options.js";
import { aheadSlots } from "./sent-ahead.js";
import type { WorkerHandle, WorkerKind } from "./worker-handle.js";

/** One attempt in a pool, from `execute()` until it settles. */
export interface Job {
  readonly id: number;
  readonly request: ExecuteRequest;
  payload: unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** The attempt's abort, and how to stop listening to it. */
  readonly abort: AttemptAbort;
  stopListening: () => void;
  worker: PooledWorker | undefined;
  /** Sub-calls the body is awaiting; while above 0 the job does not hold a slot. */
  waitingCalls: number;
  settled: boolean;
  /** The body said it is awaiting: it gave its slot up for good (counted in `waitingCalls`). */
  yielded: boolean;
  /** When the body started, as this thread saw it (`performance.now()`); -1 before. */
  startedAt: number;
  /** Sent ahead (sent-ahead.ts): held by its worker until this job lets go of its slot. */
  after: Job | undefined;
  /** Its slot in the worker's shared slots, while sent ahead. */
  aheadSlot: number;
}

/** One worker of a pool, with the pool's counts of what it runs. */
export interface PooledWorker {
  readonly handle: WorkerHandle;
  readonly exited: Promise<void>;
  readonly jobs: Map<number, Job>;
  ready: boolean;
  /** Being killed: takes no more attempts. */
  retired: boolean;
  /** Jobs holding a slot. */
  active: number;
  /** Jobs whose bodies said they await (I/O), holding no slot. */
  yielded: number;
  /**
   * Attempts this worker may take beyond its free slots, on the evidence that its bodies await:
   * one more for each body that said it awaits, none again once a body finishes in its first
   * turn. Without it every awaiting body would cost a round trip before the next one left, and a
   * fan-out of I/O-bound bodies would start one per round trip; with it the number sent doubles
   * every round trip (as TCP's slow start), up to `maxAwaitingPerWorker`. Back to 0 when the
   * worker is idle.
   */
  window: number;
  idleTimer: NodeJS.Timeout | undefined;
  readonly abortChecks: Map<number, NodeJS.Timeout>;
  /** The worker's lane in the run's timeline: `"<env>/thread-<id>"` or `"<env>/process-<pid>"`. */
  lane: string;
  /** Task and run keys whose info this worker has been sent. */
  readonly sentTasks: Set<number>;
  /** Task keys the worker has loaded (it said `started` for them): their bodies start on arrival. */
  readonly loadedTasks: Set<number>;
  readonly sentRuns: Set<number>;
  /** Attempts sent ahead to this worker, not known to have started, in the order they start. */
  readonly held: Job[];
  /** The slots that settle who starts a held attempt; thread workers only. */
  readonly aheadSlots: Int32Array | undefined;
  /** Whether the worker has been sent its slots. */
  sentSlots: boolean;
}

/**
 * The record of a worker of `kind` about to start, which resolves `exited` once it has exited;
 * its `handle` and `lane` are set as it starts.
 */
export function pooledWorker(kind: WorkerKind, exited: Promise<void>): PooledWorker {
  return {
    handle: undefined as unknown as WorkerHandle,
    exited,
    jobs: new Map(),
    ready: false,
    retired: false,
    active: 0,
    yielded: 0,
    window: 0,
    idleTimer: undefined,
    abortChecks: new Map(),
    lane: "",
    sentTasks: new Set(),
    sentRuns: new Set(),
    loadedTasks: new Set(),
    held: [],
    aheadSlots: kind === "thread" ? aheadSlots() : undefined,
    sentSlots: false,
  };
}

/** The pool's limits that decide whether a worker has a slot free. */
export type SlotLimits = Pick<PoolOptions, "maxWorkers" | "concurrency" | "maxAwaitingPerWorker">;

/** The least busy of `workers` with a slot free, if any. */
export function freeWorker(
  workers: ReadonlySet<PooledWorker>,
  limits: SlotLimits,
): PooledWorker | undefined {
  let best: PooledWorker | undefined;
  const { maxWorkers, concurrency, maxAwaitingPerWorker } = limits;
  // With a spare the pool may hold maxWorkers + 1: still at most maxWorkers run at once.
  const atMax = workers.size > maxWorkers && busyWorkers(workers) >= maxWorkers;
  for (const worker of workers) {
    const lent = Math.min(worker.window, maxAwaitingPerWorker - worker.yielded);
    if (!worker.ready || worker.retired || worker.active >= concurrency + lent) continue;
    if (atMax && worker.active === 0) continue;
    if (best === undefined || worker.active < best.active) best = worker;
  }
  return best;
}

function busyWorkers(workers: ReadonlySet<PooledWorker>): number {
  let busy = 0;
  for (const worker of workers) if (worker.active > 0) busy++;
  return busy;
}

/** `job`'s body has started. */
export function markStarted(job: Job): void {
  job.startedAt = performance.now();
  job.request.started?.();
}

/** `job` for messages: `` task `name` (action a0) ``. */
export function describeJob(job: Job): string {
  return `task \`${job.request.template.name}\` (action ${job.request.context.action.name})`;
}
