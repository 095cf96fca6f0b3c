/**
 * A pool of workers for one environment (and one set of environment variables): it queues
 * attempts, dispatches each to a worker with a free slot, relays the body's task calls to the
 * controller, and turns a worker's death into the attempt's error.
 *
 * A body that is awaiting its own sub-calls lends its slot back (DESIGN.md §2): its worker may
 * take another attempt meanwhile, so nested fan-out on a bounded pool cannot deadlock.
 *
 * The pool owns the queue, its workers and their lifecycle; what it keeps of each worker and job
 * is in pooled-worker.ts, the `run` message in run-message.ts, sending attempts ahead to busy
 * workers in ahead-sender.ts, and the relay of a body's task calls in call-relay.ts.
 * @module
 */

import type { TaskTemplate } from "../api/task.js";
import { RuntimeDataValidationError, RuntimeSystemError } from "../errors.js";
import { AheadSender } from "./ahead-sender.js";
import { alwaysClones } from "./batched-post.js";
import { relayCall } from "./call-relay.js";
import type { ExecuteRequest } from "./executor.js";
import {
  describeJob,
  freeWorker,
  type Job,
  markStarted,
  type PooledWorker,
  pooledWorker,
} from "./pooled-worker.js";
import type { FromWorker, TaskInfo, TracePayload } from "./protocol.js";
import { runMessage, runPayload, taskKey } from "./run-message.js";
import { crossingError, processWire, threadWire, type Wire } from "./serialization.js";
import { deathError } from "./worker-death.js";
import {
  startWorker,
  type WorkerExit,
  type WorkerHandle,
  type WorkerKind,
  type WorkerSpec,
} from "./worker-handle.js";

/** How a pool sizes and paces its workers. */
export interface PoolOptions {
  /** The environment's name, for messages. */
  readonly name: string;
  readonly spec: WorkerSpec;
  /** Workers started with the pool and kept while it lives. */
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** Attempts one worker runs at once (not counting those awaiting sub-calls). */
  readonly concurrency: number;
  /**
   * Bodies that are only awaiting (I/O, timers) one worker may hold beside its `concurrency`: a
   * body still unsettled after its first turn gives its slot to the next attempt, up to this many
   * per worker. 0 turns the sharing off.
   */
  readonly maxAwaitingPerWorker: number;
  /** How long a worker above `minWorkers` may sit idle, in ms; `undefined`: until closed. */
  readonly idleTtlMs: number | undefined;
}

/** How long a worker has to answer an abort before it is taken for stuck and killed. */
const abortAnswerMs = 1000;

/** A pool of thread or process workers. */
export class WorkerPool {
  readonly #options: PoolOptions;
  readonly #wire: Wire;
  readonly #workers = new Set<PooledWorker>();
  #queue: Job[] = [];
  #head = 0;
  #starting = 0;
  /** Workers killed but not yet exited. */
  #retiring = 0;
  #nextJob = 0;
  #closed = false;
  /** The tasks this pool has run, by key: a new worker loads them as soon as it is ready. */
  readonly #known = new Map<number, TaskInfo>();
  readonly #ahead: AheadSender;
  /**
   * Set once a worker has died: the pool then keeps one warm spare (tasks loaded) beyond its
   * busy workers, so the next attempt does not wait for a new worker to start and load.
   */
  #spare = false;

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#wire = options.spec.kind === "thread" ? threadWire : processWire;
    this.#ahead = new AheadSender(this.#workers, options, {
      putBack: (job) => this.#putBack(job),
      pump: () => this.#pump(),
    });
    for (let i = 0; i < options.minWorkers; i++) this.#spawn();
  }

  /** The kind of worker this pool runs. */
  get kind(): WorkerKind {
    return this.#options.spec.kind;
  }

  /** Workers alive now (started or starting). */
  get size(): number {
    return this.#workers.size;
  }

  /**
   * Starts a worker ahead of the first attempt, which has `template`'s module loaded once it is
   * ready (`version`: the task's cache version, as its attempts will say it).
   */
  prestart(template: TaskTemplate, version: string): void {
    if (this.#closed || template.moduleUrl === undefined) return;
    const info = { moduleUrl: template.moduleUrl, taskName: template.name, version };
    this.#known.set(taskKey(template), info);
    if (this.#workers.size === 0) this.#spawn();
  }

  /** Whether no attempt is queued or on a worker (a pool that may wait for the next run). */
  isIdle(): boolean {
    if (this.#closed) return false;
    for (let i = this.#head; i < this.#queue.length; i++) {
      if (!(this.#queue[i] as Job).settled) return false;
    }
    for (const worker of this.#workers) if (worker.jobs.size > 0) return false;
    return true;
  }

  /** Runs one attempt on a worker and resolves with its output. */
  execute(request: ExecuteRequest): Promise<unknown> {
    const { template } = request;
    if (this.#closed) {
      return Promise.reject(
        new RuntimeSystemError(
          `The worker pool of environment \`${this.#options.name}\` was shut down; start a new run.`,
        ),
      );
    }
    if (template.moduleUrl === undefined) {
      return Promise.reject(
        new RuntimeDataValidationError(
          `Task \`${template.name}\` has no module a worker could import it from. Define it at the top level of a module, ` +
            'or give its environment `runtime: "inline"`.',
        ),
      );
    }
    let payload: unknown;
    try {
      payload = runPayload(request, this.#wire);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const job: Job = {
        id: this.#nextJob++,
        request,
        payload,
        resolve,
        reject,
        abort: request.abort,
        stopListening: noop,
        worker: undefined,
        waitingCalls: 0,
        settled: false,
        yielded: false,
        startedAt: -1,
        after: undefined,
        aheadSlot: -1,
      };
      if (job.abort.aborted) {
        reject(job.abort.reason);
        return;
      }
      job.stopListening = job.abort.onAbort(() => this.#abort(job));
      this.#queue.push(job);
      this.#pump();
      // Threads copy at dispatch: an attempt that has to wait takes its copy now, so the caller
      // changing its objects meanwhile cannot reach the child.
      if (job.worker === undefined && !job.settled && this.#wire === threadWire) {
        job.payload = structuredClone(job.payload);
      }
    });
  }

  /** Stops every worker; queued attempts reject. Resolves when all workers have exited. */
  async close(): Promise<void> {
    this.#closed = true;
    // Killing a worker puts the attempts sent ahead to it back in the queue: kill first.
    const exits = [...this.#workers].map((worker) => {
      this.#kill(worker);
      return worker.exited;
    });
    for (let i = this.#head; i < this.#queue.length; i++) {
      const job = this.#queue[i] as Job;
      this.#settle(job, () =>
        job.reject(
          new RuntimeSystemError(`The worker pool of \`${this.#options.name}\` was shut down.`),
        ),
      );
    }
    this.#queue = [];
    this.#head = 0;
    await Promise.all(exits);
  }

  #spawn(): void {
    this.#starting++;
    let markExited: () => void = () => {};
    const exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    const worker = pooledWorker(this.#options.spec.kind, exited);
    (worker as { handle: WorkerHandle }).handle = startWorker(this.#options.spec, {
      message: (message) => this.#onMessage(worker, message),
      messageError: (error) => this.#onMessageError(worker, error),
      exit: (exit) => {
        this.#onExit(worker, exit);
        markExited();
      },
    });
    worker.lane = `${this.#options.name}/${this.#options.spec.kind}-${worker.handle.id}`;
    this.#workers.add(worker);
  }

  #pump(): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const job = queue[this.#head] as Job;
      if (job.settled) {
        this.#head++;
        continue;
      }
      const worker = freeWorker(this.#workers, this.#options);
      if (worker !== undefined) {
        this.#head++;
        this.#assign(job, worker, false);
        continue;
      }
      const ahead = this.#ahead.pick();
      if (ahead === undefined) break;
      this.#head++;
      this.#assign(job, ahead, true);
    }
    if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    const waiting = this.#queue.length - this.#head;
    const { maxWorkers, concurrency } = this.#options;
    while (
      !this.#closed &&
      this.#workers.size < maxWorkers &&
      this.#starting * concurrency < waiting
    ) {
      this.#spawn();
    }
    this.#keepSpare();
    this.#ahead.check();
  }

  /** Has a new worker load the pool's tasks now, before an attempt waits for it to. */
  #warm(worker: PooledWorker): void {
    if (this.#known.size === 0) return;
    worker.handle.post({ t: "load", tasks: [...this.#known] }, true);
    for (const task of this.#known.keys()) worker.sentTasks.add(task);
  }

  /** After a death: one idle (or starting) worker beyond the busy ones, started now. */
  #keepSpare(): void {
    if (!this.#spare || this.#closed) return;
    let idle = 0;
    for (const worker of this.#workers) if (!worker.retired && worker.jobs.size === 0) idle++;
    if (idle === 0 && this.#workers.size - this.#retiring <= this.#options.maxWorkers) {
      this.#spawn();
    }
  }

  #assign(job: Job, worker: PooledWorker, ahead: boolean): void {
    if (ahead) this.#ahead.send(job, worker);
    else worker.active++;
    job.worker = worker;
    worker.jobs.set(job.id, job);
    if (worker.idleTimer !== undefined) {
      clearTimeout(worker.idleTimer);
      worker.idleTimer = undefined;
    }
    if (worker.jobs.size === 1) worker.handle.setRef(true);
    const message = runMessage(job, worker);
    if (message.taskInfo !== undefined) this.#known.set(message.task, message.taskInfo);
    const { request } = job;
    const id = worker.handle.id;
    request.placed?.(
      worker.lane,
      this.#options.spec.kind === "thread" ? { threadId: id } : { pid: id },
    );
    // Everything the controller does about this attempt happens before the message leaves: the
    // woken worker may take this thread's core, and the controller's work would wait behind it.
    if (!ahead && worker.loadedTasks.has(message.task)) markStarted(job);
    worker.handle.post(message, alwaysClones(message.payload));
  }

  /** A job called back from its worker before it started goes back to the queue's front. */
  #putBack(job: Job): void {
    this.#detach(job);
    job.request.unplaced?.();
    if (this.#head > 0) this.#queue[--this.#head] = job;
    else this.#queue.unshift(job);
  }

  /** `job`'s body awaits (a task call, I/O): its slot goes to the next attempt meanwhile. */
  #lend(job: Job, worker: PooledWorker): void {
    if (job.waitingCalls++ === 0) {
      worker.active--;
      this.#pump();
    }
  }

  #onMessage(worker: PooledWorker, message: FromWorker): void {
    switch (message.t) {
      case "ready":
        this.#starting--;
        worker.ready = true;
        this.#warm(worker);
        this.#afterJobLeft(worker);
        this.#pump();
        return;
      case "done": {
        const job = worker.jobs.get(message.job);
        if (job !== undefined) {
          this.#ahead.ran(job, message.runMs);
          // A body that finished in its first turn: the next ones may compute too.
          if (!job.yielded) worker.window = 0;
          this.#detach(job);
          this.#settle(job, () => {
            try {
              if (message.ok) job.resolve(this.#wire.decode(message.payload));
              else job.reject(this.#wire.decodeError(message.payload));
            } catch (error) {
              job.reject(crossingError(`The output of ${describeJob(job)}`, error));
            }
          });
        }
        // After the end is recorded: the attempt held behind it starts as this one ends.
        this.#ahead.letGo(worker, message.job);
        if (job === undefined) return;
        this.#afterJobLeft(worker);
        this.#pump();
        return;
      }
      case "started": {
        worker.loadedTasks.add(message.task);
        const job = worker.jobs.get(message.job);
        if (job !== undefined) markStarted(job);
        return;
      }
      case "call": {
        const job = worker.jobs.get(message.job);
        if (job !== undefined) this.#lend(job, worker);
        relayCall(this.#wire, worker, job, message.call, message.payload);
        this.#ahead.letGo(worker, message.job);
        return;
      }
      case "waiting": {
        this.#ahead.letGo(worker, message.job);
        // The body is awaiting (I/O, a timer): its slot goes to the next attempt, for good — a
        // body that resumes shares its worker's thread with the others, as async code does.
        const job = worker.jobs.get(message.job);
        if (job === undefined || job.yielded) return;
        if (worker.yielded >= this.#options.maxAwaitingPerWorker) return;
        job.yielded = true;
        worker.yielded++;
        worker.window++;
        this.#lend(job, worker);
        return;
      }
      case "log": {
        const job = worker.jobs.get(message.job);
        job?.request.logs?.write(job.request.context.action.name, message.stream, message.text);
        return;
      }
      case "trace": {
        const job = worker.jobs.get(message.job);
        if (job === undefined) return;
        const { action, traceId, record } = this.#wire.decode(message.payload) as TracePayload;
        job.request.channel.recordTrace(action, traceId, record);
        return;
      }
      case "abort-ack": {
        const check = worker.abortChecks.get(message.job);
        if (check !== undefined) clearTimeout(check);
        worker.abortChecks.delete(message.job);
        return;
      }
    }
  }

  /** A running attempt was aborted (timeout, cancellation): stop its body. */
  #abort(job: Job): void {
    if (job.settled) return;
    const worker = job.worker;
    if (worker !== undefined && job.after !== undefined && this.#ahead.stop(worker, job)) {
      this.#settle(job, () => job.reject(job.abort.reason));
      this.#detach(job);
      return;
    }
    this.#settle(job, () => job.reject(job.abort.reason));
    if (worker === undefined) return;
    this.#detach(job);
    if (worker.jobs.size === worker.held.length) {
      // Alone on its worker: kill it, which also stops a body stuck in a loop (and, like a
      // crash, makes the pool keep a warm spare for the retry).
      this.#spare = true;
      this.#kill(worker);
      return;
    }
    // Others share the worker: abort the body's signal, and kill the worker only if its event
    // loop does not answer (the body is stuck, so the others could not progress anyway).
    worker.abortChecks.set(job.id, setTimeout(() => this.#kill(worker), abortAnswerMs).unref());
    worker.handle.post({ t: "abort", job: job.id }, true);
  }

  #kill(worker: PooledWorker): void {
    if (worker.retired) return;
    worker.retired = true;
    this.#retiring++;
    // Attempts sent ahead that had not started go back to the queue.
    if (worker.held.length > 0) this.#ahead.callBack(worker);
    // Held until it has exited, so that whoever awaits `close()` sees the exit.
    worker.handle.setRef(true);
    worker.handle.terminate();
    // A replacement may be needed now for queued attempts or the pool's minimum.
    if (!this.#closed) queueMicrotask(() => this.#pump());
  }

  #detach(job: Job): void {
    const worker = job.worker;
    if (worker === undefined) return;
    worker.jobs.delete(job.id);
    job.worker = undefined;
    if (job.after !== undefined) {
      this.#ahead.drop(worker, job);
      return;
    }
    if (job.yielded) worker.yielded--;
    if (job.waitingCalls === 0) worker.active--;
  }

  #settle(job: Job, fn: () => void): void {
    if (job.settled) return;
    job.settled = true;
    job.request.ended?.();
    job.stopListening();
    fn();
  }

  #afterJobLeft(worker: PooledWorker): void {
    if (worker.jobs.size > 0) return;
    // What its last bodies did says nothing of the next burst's.
    worker.window = 0;
    worker.handle.setRef(false);
    const { idleTtlMs, minWorkers } = this.#options;
    const keep = minWorkers + (this.#spare ? 1 : 0);
    if (idleTtlMs === undefined || this.#workers.size <= keep) return;
    worker.idleTimer = setTimeout(() => {
      worker.idleTimer = undefined;
      if (worker.jobs.size === 0 && this.#workers.size > keep) this.#kill(worker);
    }, idleTtlMs).unref();
  }

  /**
   * A message the worker sent could not be received, so whichever attempt it belonged to would
   * wait forever: its attempts fail, naming the error, and the worker is replaced.
   */
  #onMessageError(worker: PooledWorker, error: Error): void {
    for (const job of [...worker.jobs.values()]) {
      this.#detach(job);
      this.#settle(job, () =>
        job.reject(crossingError(`A message from ${describeJob(job)}`, error)),
      );
    }
    this.#kill(worker);
  }

  #deathError(exit: WorkerExit, job: Job): Error {
    const { spec, name } = this.#options;
    return deathError(exit, {
      kind: spec.kind,
      environment: name,
      heapLimitMb: spec.heapLimitMb,
      task: job.request.template.name,
      action: job.request.context.action.name,
    });
  }

  #onExit(worker: PooledWorker, exit: WorkerExit): void {
    this.#workers.delete(worker);
    if (!worker.ready) this.#starting--;
    if (worker.retired) this.#retiring--;
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
    for (const check of worker.abortChecks.values()) clearTimeout(check);
    if (worker.held.length > 0) this.#ahead.callBack(worker);
    const jobs = [...worker.jobs.values()];
    for (const job of jobs) {
      this.#detach(job);
      this.#settle(job, () => job.reject(this.#deathError(exit, job)));
    }
    if (!exit.requested && worker.ready) this.#spare = true;
    if (!worker.ready && !exit.requested) {
      // A worker that dies before it is ready will not start next time either.
      for (let i = this.#head; i < this.#queue.length; i++) {
        const job = this.#queue[i] as Job;
        this.#settle(job, () => job.reject(this.#deathError(exit, job)));
      }
      return;
    }
    if (!this.#closed) {
      while (this.#workers.size - this.#retiring < this.#options.minWorkers) this.#spawn();
      this.#pump();
    }
  }
}

function noop(): void {}
