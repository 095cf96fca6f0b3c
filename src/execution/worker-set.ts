/**
 * The workers of one pool, from their start to their exit: how many it starts for the attempts
 * waiting, the minimum it keeps, the warm spare it keeps once a worker has died, the pool's
 * tasks that a new worker loads as soon as it is ready, and which idle workers it retires. What
 * runs on each worker is the pool's business (worker-pool.ts).
 * @module
 */

import { outsideFrame } from "../context/context.js";
import type { PoolOptions } from "./pool-options.js";
import { type PooledWorker, pooledWorker } from "./pooled-worker.js";
import type { TaskInfo } from "./protocol.js";
import { startWorker, type WorkerEvents, type WorkerHandle } from "./worker-handle.js";

/** What a pool's workers need of their pool. */
export interface WorkerSetOwner {
  /** Where `worker`'s messages and exit go; asked once, as it starts. */
  events(worker: PooledWorker): Required<WorkerEvents>;
  /** `worker` is being killed: the attempts sent ahead to it that have not started go back. */
  callBack(worker: PooledWorker): void;
  /** Hands queued attempts to workers. */
  pump(): void;
}

/** The workers of one pool. */
export class WorkerSet {
  readonly #options: PoolOptions;
  readonly #owner: WorkerSetOwner;
  readonly #workers = new Set<PooledWorker>();
  #starting = 0;
  /** Workers killed but not yet exited. */
  #retiring = 0;
  #closed = false;
  /** The tasks this pool has run, by key: a new worker loads them as soon as it is ready. */
  readonly #known = new Map<number, TaskInfo>();
  /**
   * Set once a worker has died: the pool then keeps one warm spare (tasks loaded) beyond its
   * busy workers, so the next attempt does not wait for a new worker to start and load.
   */
  #spare = false;

  /** The workers of a pool with `options`, which starts none until asked. */
  constructor(options: PoolOptions, owner: WorkerSetOwner) {
    this.#options = options;
    this.#owner = owner;
  }

  /** Every worker alive now (started or starting), in the order they started. */
  get all(): ReadonlySet<PooledWorker> {
    return this.#workers;
  }

  /** Whether the pool was closed: its workers are killed and no more start. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Task `task` runs in this pool: each worker that starts from now on loads it as it is ready. */
  remember(task: number, info: TaskInfo): void {
    this.#known.set(task, info);
  }

  /**
   * Starts a worker. Outside the frame of the call that needed it: a warm worker outlives the
   * run whose attempt started it, and the worker, its exit promise and its timers, made in that
   * run's frame, would keep the run's whole record alive as long as the worker lives.
   */
  start(): void {
    outsideFrame(this.#start);
  }

  readonly #start = (): void => {
    this.#starting++;
    let markExited: () => void = () => {};
    const exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    const { spec, name } = this.#options;
    const worker = pooledWorker(spec.kind, exited);
    const events = this.#owner.events(worker);
    (worker as { handle: WorkerHandle }).handle = startWorker(spec, {
      message: events.message,
      messageError: events.messageError,
      exit: (exit) => {
        events.exit(exit);
        markExited();
      },
    });
    worker.lane = `${name}/${spec.kind}-${worker.handle.id}`;
    this.#workers.add(worker);
  };

  /**
   * `worker` has started and listens: it loads the pool's tasks now, before an attempt waits for
   * it to.
   */
  ready(worker: PooledWorker): void {
    this.#starting--;
    worker.ready = true;
    if (this.#known.size === 0) return;
    worker.handle.post({ t: "load", tasks: [...this.#known] }, true);
    for (const task of this.#known.keys()) worker.sentTasks.add(task);
  }

  /** Starts workers for `waiting` queued attempts, unless those starting will take them. */
  grow(waiting: number): void {
    const { maxWorkers, concurrency } = this.#options;
    while (
      !this.#closed &&
      this.#workers.size < maxWorkers &&
      this.#starting * concurrency < waiting
    ) {
      this.start();
    }
  }

  /** Starts workers until the pool has its minimum, not counting the ones being killed. */
  replenish(): void {
    while (this.#workers.size - this.#retiring < this.#options.minWorkers) this.start();
  }

  /** A worker died, or was killed to stop a body: from now on the pool keeps a warm spare. */
  lost(): void {
    this.#spare = true;
  }

  /** After a death: one idle (or starting) worker beyond the busy ones, started now. */
  startSpare(): void {
    if (!this.#spare || this.#closed) return;
    let idle = 0;
    for (const worker of this.#workers) if (!worker.retired && worker.jobs.size === 0) idle++;
    if (idle === 0 && this.#workers.size - this.#retiring <= this.#options.maxWorkers) {
      this.start();
    }
  }

  /** `worker` took an attempt: it is not retired for being idle. */
  busy(worker: PooledWorker): void {
    if (worker.idleTimer !== undefined) {
      clearTimeout(worker.idleTimer);
      worker.idleTimer = undefined;
    }
  }

  /** An attempt left `worker`: when it was the last, the worker idles, and may retire. */
  afterJobLeft(worker: PooledWorker): void {
    if (worker.jobs.size > 0) return;
    // What its last bodies did says nothing of the next burst's.
    worker.window = 0;
    worker.handle.setRef(false);
    const { idleTtlMs, minWorkers } = this.#options;
    const keep = minWorkers + (this.#spare ? 1 : 0);
    if (idleTtlMs === undefined || this.#workers.size <= keep) return;
    worker.idleTimer = setTimeout(() => {
      worker.idleTimer = undefined;
      if (worker.jobs.size === 0 && this.#workers.size > keep) this.kill(worker);
    }, idleTtlMs).unref();
  }

  /** Kills `worker`; the pool learns of its exit as of any other. */
  kill(worker: PooledWorker): void {
    if (worker.retired) return;
    worker.retired = true;
    this.#retiring++;
    // Attempts sent ahead that had not started go back to the queue.
    if (worker.held.length > 0) this.#owner.callBack(worker);
    // Held until it has exited, so that whoever awaits `close()` sees the exit.
    worker.handle.setRef(true);
    worker.handle.terminate();
    // A replacement may be needed now for queued attempts or the pool's minimum.
    if (!this.#closed) queueMicrotask(() => this.#owner.pump());
  }

  /** Kills every worker and starts none from now on; returns their exits. */
  close(): Promise<void>[] {
    this.#closed = true;
    return [...this.#workers].map((worker) => {
      this.kill(worker);
      return worker.exited;
    });
  }

  /** `worker` has exited: it is no longer counted. */
  exited(worker: PooledWorker): void {
    this.#workers.delete(worker);
    if (!worker.ready) this.#starting--;
    if (worker.retired) this.#retiring--;
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
  }
}
