/**
 * A pool of workers for one environment (and one set of environment variables): it queues
 * attempts, dispatches each to a worker with a free slot, relays the body's task calls to the
 * controller, and turns a worker's death into the attempt's error.
 *
 * A body that is awaiting its own sub-calls lends its slot back (DESIGN.md §2): its worker may
 * take another attempt meanwhile, so nested fan-out on a bounded pool cannot deadlock.
 *
 * The pool owns the queue and each attempt's course; its parts: pooled-worker.ts (records of
 * workers and jobs), worker-set.ts (workers' starts and exits), run-message.ts, ahead-sender.ts
 * (sending attempts ahead to busy workers) and call-relay.ts.
 * @module
 */

import type { TaskTemplate } from "../api/task.js";
import { RuntimeSystemError } from "../errors.js";
import { AheadSender } from "./ahead-sender.js";
import { alwaysClones } from "./batched-post.js";
import { relayCall } from "./call-relay.js";
import type { ExecuteRequest } from "./executor.js";
import type { PoolOptions } from "./pool-options.js";
import {
  describeJob,
  freeWorker,
  type Job,
  markStarted,
  type PooledWorker,
} from "./pooled-worker.js";
import type { FromWorker, TracePayload } from "./protocol.js";
import { runMessage, runPayload, taskKey } from "./run-message.js";
import { crossingError, processWire, threadWire, type Wire } from "./serialization.js";
import { deathError } from "./worker-death.js";
import type { WorkerExit, WorkerKind } from "./worker-handle.js";
import { WorkerSet } from "./worker-set.js";

export type { PoolOptions } from "./pool-options.js";

/** How long a worker has to answer an abort before it is taken for stuck and killed. */
const abortAnswerMs = 1000;

/** A pool of thread or process workers. */
export class WorkerPool {
  readonly #options: PoolOptions;
  readonly #wire: Wire;
  readonly #workers: WorkerSet;
  readonly #ahead: AheadSender;
  /** Jobs waiting for a worker, from `#head` on; the slots before it are emptied. */
  #queue: (Job | undefined)[] = [];
  #head = 0;
  #nextJob = 0;

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#wire = options.spec.kind === "thread" ? threadWire : processWire;
    // The parts reach the pool's own methods through these closures, made once here (the events
    // once per worker, as it starts) and never per call.
    const owner = {
      events: (worker: PooledWorker) => ({
        message: (message: FromWorker) => this.#onMessage(worker, message),
        messageError: (error: Error) => this.#onMessageError(worker, error),
        exit: (exit: WorkerExit) => this.#onExit(worker, exit),
      }),
      callBack: (worker: PooledWorker) => this.#ahead.callBack(worker),
      putBack: (job: Job) => this.#putBack(job),
      pump: () => this.#pump(),
    };
    this.#workers = new WorkerSet(options, owner);
    this.#ahead = new AheadSender(this.#workers.all, options, owner);
    this.#workers.replenish();
  }

  /** The kind of worker this pool runs. */
  get kind(): WorkerKind {
    return this.#options.spec.kind;
  }

  /** Workers alive now (started or starting). */
  get size(): number {
    return this.#workers.all.size;
  }

  /**
   * Starts a worker ahead of the first attempt, which has `template`'s module loaded once it is
   * ready (`version`: the task's cache version, as its attempts will say it).
   */
  prestart(template: TaskTemplate, version: string): void {
    if (this.#workers.closed || template.moduleUrl === undefined) return;
    const info = { moduleUrl: template.moduleUrl, taskName: template.name, version };
    this.#workers.remember(taskKey(template), info);
    if (this.#workers.all.size === 0) this.#workers.start();
  }

  /** Whether no attempt is queued or on a worker (a pool that may wait for the next run). */
  isIdle(): boolean {
    if (this.#workers.closed) return false;
    for (let i = this.#head; i < this.#queue.length; i++) {
      if (!(this.#queue[i] as Job).settled) return false;
    }
    for (const worker of this.#workers.all) if (worker.jobs.size > 0) return false;
    return true;
  }

  /** Runs one attempt on a worker and resolves with its output. */
  execute(request: ExecuteRequest): Promise<unknown> {
    if (this.#workers.closed) {
      return Promise.reject(
        new RuntimeSystemError(
          `The worker pool of environment \`${this.#options.name}\` was shut down; start a new run.`,
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
    // Killing a worker puts the attempts sent ahead to it back in the queue: kill first.
    const exits = this.#workers.close();
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

  #pump(): void {
    const queue = this.#queue;
    // A job leaves the queue's array as the head passes it: kept there until the array is
    // compacted, every attempt of a fan-out outlived its end (and was promoted to the old heap).
    while (this.#head < queue.length) {
      const job = queue[this.#head] as Job;
      if (job.settled) {
        queue[this.#head++] = undefined;
        continue;
      }
      const worker = freeWorker(this.#workers.all, this.#options);
      if (worker !== undefined) {
        queue[this.#head++] = undefined;
        this.#assign(job, worker, false);
        continue;
      }
      const ahead = this.#ahead.pick();
      if (ahead === undefined) break;
      queue[this.#head++] = undefined;
      this.#assign(job, ahead, true);
    }
    if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    this.#workers.grow(this.#queue.length - this.#head);
    this.#workers.startSpare();
    this.#ahead.check();
  }

  #assign(job: Job, worker: PooledWorker, ahead: boolean): void {
    if (ahead) this.#ahead.send(job, worker);
    else worker.active++;
    job.worker = worker;
    worker.jobs.set(job.id, job);
    this.#workers.busy(worker);
    if (worker.jobs.size === 1) worker.handle.setRef(true);
    const message = runMessage(job, worker);
    if (message.taskInfo !== undefined) this.#workers.remember(message.task, message.taskInfo);
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
        this.#workers.ready(worker);
        this.#workers.afterJobLeft(worker);
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
        this.#workers.afterJobLeft(worker);
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
      this.#workers.lost();
      this.#workers.kill(worker);
      return;
    }
    // Others share the worker: abort the body's signal, and kill the worker only if its event
    // loop does not answer (the body is stuck, so the others could not progress anyway).
    worker.abortChecks.set(
      job.id,
      setTimeout(() => this.#workers.kill(worker), abortAnswerMs).unref(),
    );
    worker.handle.post({ t: "abort", job: job.id }, true);
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
    this.#workers.kill(worker);
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
    this.#workers.exited(worker);
    for (const check of worker.abortChecks.values()) clearTimeout(check);
    if (worker.held.length > 0) this.#ahead.callBack(worker);
    const jobs = [...worker.jobs.values()];
    for (const job of jobs) {
      this.#detach(job);
      this.#settle(job, () => job.reject(this.#deathError(exit, job)));
    }
    if (!exit.requested && worker.ready) this.#workers.lost();
    if (!worker.ready && !exit.requested) {
      // A worker that dies before it is ready will not start next time either.
      for (let i = this.#head; i < this.#queue.length; i++) {
        const job = this.#queue[i] as Job;
        this.#settle(job, () => job.reject(this.#deathError(exit, job)));
      }
      return;
    }
    if (!this.#workers.closed) {
      this.#workers.replenish();
      this.#pump();
    }
  }
}

function noop(): void {}
