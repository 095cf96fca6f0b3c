/**
 * A pool of workers for one environment (and one set of environment variables): it queues
 * attempts, dispatches each to a worker with a free slot, relays the body's task calls to the
 * controller, and turns a worker's death into the attempt's error.
 *
 * A body that is awaiting its own sub-calls lends its slot back (DESIGN.md §2): its worker may
 * take another attempt meanwhile, so nested fan-out on a bounded pool cannot deadlock.
 * @module
 */

import type { TaskTemplate } from "../api/task.js";
import { parameterName } from "../cache/inputs.js";
import { issueNow } from "../context/call-pacer.js";
import { RuntimeDataValidationError, RuntimeSystemError } from "../errors.js";
import type { AttemptAbort } from "./attempt-abort.js";
import { isBatch } from "./batch.js";
import { alwaysClones } from "./batched-post.js";
import type { ExecuteRequest } from "./executor.js";
import type {
  FromWorker,
  RunPayload,
  SubCall,
  TaskInfo,
  ToWorker,
  TracePayload,
} from "./protocol.js";
import { aheadDepth, aheadMs, aheadSlots, claim, freeSlot, hold } from "./sent-ahead.js";
import { checkArgs, crossingError, processWire, threadWire, type Wire } from "./serialization.js";
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

// Keys for what a worker is told once (protocol.ts TaskInfo, RunInfo). A run's custom context
// object is made once per run (RunState), so it identifies the run's shared context.
const taskKeys = new WeakMap<object, number>();
const runKeys = new WeakMap<object, number>();
let nextKey = 0;

function keyOf(keys: WeakMap<object, number>, owner: object): number {
  let key = keys.get(owner);
  if (key === undefined) {
    key = nextKey++;
    keys.set(owner, key);
  }
  return key;
}

const noTraces: RunPayload["traces"] = Object.freeze([]);

/** A `run` message. */
type RunMessage = Extract<ToWorker, { t: "run" }>;

/** How long a worker has to answer an abort before it is taken for stuck and killed. */
const abortAnswerMs = 1000;

interface Job {
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

interface PooledWorker {
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
  /** How long each task's last body ran (ms, as its worker timed it). */
  readonly #lastRunMs = new Map<number, number>();
  /** Attempts sent ahead, on all workers. */
  #held = 0;
  /** The next #checkAhead, while one is due. */
  #aheadTimer: NodeJS.Timeout | undefined;
  /**
   * Set once a worker has died: the pool then keeps one warm spare (tasks loaded) beyond its
   * busy workers, so the next attempt does not wait for a new worker to start and load.
   */
  #spare = false;

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#wire = options.spec.kind === "thread" ? threadWire : processWire;
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
    this.#known.set(keyOf(taskKeys, template), info);
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
      checkArgs(
        request.args,
        (i) => `Input \`${parameterName(template, i)}\` of task \`${template.name}\``,
      );
      const run: RunPayload = {
        args: request.args,
        traces: request.traces.size === 0 ? noTraces : [...request.traces],
      };
      payload = this.#wire.encode(run);
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
    const worker: PooledWorker = {
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
      aheadSlots: this.#options.spec.kind === "thread" ? aheadSlots() : undefined,
      sentSlots: false,
    };
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
      const worker = this.#pick();
      if (worker !== undefined) {
        this.#head++;
        this.#assign(job, worker, false);
        continue;
      }
      const ahead = this.#pickAhead();
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
    this.#checkAhead();
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

  #pick(): PooledWorker | undefined {
    let best: PooledWorker | undefined;
    const { maxWorkers, concurrency, maxAwaitingPerWorker } = this.#options;
    // With a spare the pool may hold maxWorkers + 1: still at most maxWorkers run at once.
    const atMax = this.#workers.size > maxWorkers && this.#busyWorkers() >= maxWorkers;
    for (const worker of this.#workers) {
      const lent = Math.min(worker.window, maxAwaitingPerWorker - worker.yielded);
      if (!worker.ready || worker.retired || worker.active >= concurrency + lent) continue;
      if (atMax && worker.active === 0) continue;
      if (best === undefined || worker.active < best.active) best = worker;
    }
    return best;
  }

  /**
   * When no worker has a free slot: the worker to send the next attempt ahead to, where it starts
   * as the body before it ends, without waiting for a round trip through this thread. Only behind
   * one running body (no other attempt on the worker) of a task whose last body took under
   * {@link aheadMs}, and only as many attempts as that run time fits into {@link aheadMs} (at
   * most {@link aheadDepth}). A body that runs long after all has them called back (#checkAhead).
   */
  #pickAhead(): PooledWorker | undefined {
    let best: PooledWorker | undefined;
    for (const worker of this.#workers) {
      const { held } = worker;
      if (worker.aheadSlots === undefined || !worker.ready || worker.retired) continue;
      if (held.length >= aheadDepth || worker.jobs.size !== 1 + held.length) continue;
      if (best !== undefined && held.length >= best.held.length) continue;
      const front = worker.jobs.values().next().value as Job;
      if (front.startedAt < 0 || front.yielded || front.waitingCalls > 0) continue;
      const last = this.#lastRunMs.get(keyOf(taskKeys, front.request.template));
      if (last === undefined || (held.length + 1) * last > aheadMs) continue;
      if (freeSlot(worker.aheadSlots) >= 0) best = worker;
    }
    return best;
  }

  /**
   * While a worker has a free slot, attempts sent ahead that wait behind a body running past
   * {@link aheadMs} are called back to the queue (and go to that worker). Checked as the pump
   * runs, and every {@link aheadMs} while a worker is free and attempts wait behind younger
   * bodies; a worker that frees up later runs the pump.
   */
  #checkAhead = (): void => {
    this.#aheadTimer = undefined;
    if (this.#held === 0 || this.#pick() === undefined) return;
    const now = performance.now();
    let young = false;
    let called = false;
    for (const worker of this.#workers) {
      if (worker.held.length === 0) continue;
      const front = worker.jobs.values().next().value as Job;
      if (now - front.startedAt <= aheadMs) young = true;
      else if (this.#callBack(worker) > 0) called = true;
    }
    if (called) this.#pump();
    else if (young) this.#aheadTimer ??= setTimeout(this.#checkAhead, aheadMs).unref();
  };

  /**
   * Calls back the attempts sent ahead to `worker`, from the last: each whose token the pool
   * takes goes back to the front of the queue. The first it cannot take (and all before it) the
   * worker has started; they stay held until the messages that ended the ones before them
   * arrive, so the record has each one's start after the end before it. Returns how many came
   * back.
   */
  #callBack(worker: PooledWorker): number {
    const { held } = worker;
    const slots = worker.aheadSlots as Int32Array;
    let back = 0;
    // From the last: each goes in front of the one after it, so the queue keeps their order.
    for (let job = held.at(-1); job !== undefined; job = held.at(-1)) {
      if (!claim(slots, job.aheadSlot, job.id)) break;
      this.#detach(job);
      job.request.unplaced?.();
      if (this.#head > 0) this.#queue[--this.#head] = job;
      else this.#queue.unshift(job);
      back++;
    }
    return back;
  }

  /** The first `count` attempts held by `worker` have started (it took their tokens). */
  #heldStarted(worker: PooledWorker, count: number): void {
    for (let i = 0; i < count; i++) {
      const job = worker.held.shift() as Job;
      this.#held--;
      job.after = undefined;
      worker.active++;
      this.#started(job);
    }
  }

  #busyWorkers(): number {
    let busy = 0;
    for (const worker of this.#workers) if (worker.active > 0) busy++;
    return busy;
  }

  #assign(job: Job, worker: PooledWorker, ahead: boolean): void {
    if (ahead) this.#sendAhead(job, worker);
    else worker.active++;
    job.worker = worker;
    worker.jobs.set(job.id, job);
    if (worker.idleTimer !== undefined) {
      clearTimeout(worker.idleTimer);
      worker.idleTimer = undefined;
    }
    if (worker.jobs.size === 1) worker.handle.setRef(true);
    const { template, context } = job.request;
    const task = keyOf(taskKeys, template);
    const run = keyOf(runKeys, context.customContext);
    // Built field by field: every call sends one, and spreads of optional parts cost objects.
    const message: { -readonly [K in keyof RunMessage]: RunMessage[K] } = {
      t: "run",
      job: job.id,
      task,
      run,
      action: context.action.name,
      attemptNumber: context.attemptNumber,
      group: context.group,
      batch: isBatch(template),
      payload: job.payload,
    };
    if (context.devices.length > 0) message.devices = context.devices;
    if (context.cpus.length > 0) message.cpus = context.cpus;
    if (context.secretsDir !== undefined) message.secretsDir = context.secretsDir;
    if (job.after !== undefined) {
      message.after = job.after.id;
      message.slot = job.aheadSlot;
      if (!worker.sentSlots) {
        worker.sentSlots = true;
        message.slots = worker.aheadSlots as Int32Array;
      }
    }
    if (!worker.sentTasks.has(task)) {
      message.taskInfo = {
        moduleUrl: template.moduleUrl as string,
        taskName: template.name,
        version: context.version,
      };
    }
    if (!worker.sentRuns.has(run)) {
      message.runInfo = {
        runName: context.action.runName,
        mode: context.mode,
        rawDataPath: context.rawDataPath,
        runBaseDir: context.runBaseDir,
        customContext: context.customContext,
        echoLogs: job.request.logs?.echo ?? true,
      };
    }
    if (message.taskInfo !== undefined) this.#known.set(task, message.taskInfo);
    worker.sentTasks.add(task);
    worker.sentRuns.add(run);
    const { request } = job;
    const id = worker.handle.id;
    request.placed?.(
      worker.lane,
      this.#options.spec.kind === "thread" ? { threadId: id } : { pid: id },
    );
    // Everything the controller does about this attempt happens before the message leaves: the
    // woken worker may take this thread's core, and the controller's work would wait behind it.
    if (!ahead && worker.loadedTasks.has(task)) this.#started(job);
    worker.handle.post(message, alwaysClones(message.payload));
  }

  /** Holds `job` on `worker` behind its last held attempt, or behind its running body. */
  #sendAhead(job: Job, worker: PooledWorker): void {
    const slots = worker.aheadSlots as Int32Array;
    const slot = freeSlot(slots);
    job.after = worker.held.at(-1) ?? (worker.jobs.values().next().value as Job);
    job.aheadSlot = slot;
    hold(slots, slot, job.id);
    worker.held.push(job);
    this.#held++;
  }

  #started(job: Job): void {
    job.startedAt = performance.now();
    job.request.started?.();
  }

  /** Job `id` of `worker` let go of its slot: the attempt held behind it has started. */
  #letGo(worker: PooledWorker, id: number): void {
    if (worker.held[0]?.after?.id === id) this.#heldStarted(worker, 1);
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
          this.#lastRunMs.set(keyOf(taskKeys, job.request.template), message.runMs);
          // A body that finished in its first turn: the next ones may compute too.
          if (!job.yielded) worker.window = 0;
          this.#detach(job);
          this.#settle(job, () => {
            try {
              if (message.ok) job.resolve(this.#wire.decode(message.payload));
              else job.reject(this.#wire.decodeError(message.payload));
            } catch (error) {
              job.reject(crossingError(`The output of ${this.#describeJob(job)}`, error));
            }
          });
        }
        // After the end is recorded: the attempt held behind it starts as this one ends.
        this.#letGo(worker, message.job);
        if (job === undefined) return;
        this.#afterJobLeft(worker);
        this.#pump();
        return;
      }
      case "started": {
        worker.loadedTasks.add(message.task);
        const job = worker.jobs.get(message.job);
        if (job !== undefined) this.#started(job);
        return;
      }
      case "call":
        this.#relayCall(worker, message.job, message.call, message.payload);
        this.#letGo(worker, message.job);
        return;
      case "waiting": {
        this.#letGo(worker, message.job);
        // The body is awaiting (I/O, a timer): its slot goes to the next attempt, for good — a
        // body that resumes shares its worker's thread with the others, as async code does.
        const job = worker.jobs.get(message.job);
        if (job === undefined || job.yielded) return;
        if (worker.yielded >= this.#options.maxAwaitingPerWorker) return;
        job.yielded = true;
        worker.yielded++;
        worker.window++;
        if (job.waitingCalls++ === 0) {
          worker.active--;
          this.#pump();
        }
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

  #relayCall(worker: PooledWorker, jobId: number, callId: number, payload: unknown): void {
    const reply = (ok: boolean, data: unknown) =>
      worker.handle.post({ t: "reply", call: callId, ok, payload: data }, alwaysClones(data));
    const job = worker.jobs.get(jobId);
    if (job === undefined) {
      reply(
        false,
        this.#wire.encodeError(
          new RuntimeSystemError("The attempt that made this call was stopped."),
        ),
      );
      return;
    }
    if (job.waitingCalls++ === 0) {
      worker.active--;
      this.#pump();
    }
    const done = () => {
      if (--job.waitingCalls === 0 && job.worker === worker) worker.active++;
    };
    // Paced as an inline body's calls are (call-pacer.ts): a worker's burst of calls is decoded
    // and issued over several turns, not in the one that received it.
    const channel = job.request.channel;
    const issue = () => channel.submit(this.#wire.decode(payload) as SubCall);
    (channel.pacer?.call(issue) ?? issueNow(issue)).then(
      (value) => {
        done();
        let data: unknown;
        try {
          data = this.#wire.encode(value);
        } catch (error) {
          reply(false, this.#wire.encodeError(error));
          return;
        }
        reply(true, data);
      },
      (error) => {
        done();
        reply(false, this.#wire.encodeError(error));
      },
    );
  }

  /** A running attempt was aborted (timeout, cancellation): stop its body. */
  #abort(job: Job): void {
    if (job.settled) return;
    const worker = job.worker;
    if (worker !== undefined && job.after !== undefined) {
      const at = worker.held.indexOf(job);
      // Not started: the worker skips it when its turn comes, and starts the one behind it.
      if (claim(worker.aheadSlots as Int32Array, job.aheadSlot, job.id)) {
        this.#settle(job, () => job.reject(job.abort.reason));
        this.#detach(job);
        return;
      }
      this.#heldStarted(worker, at + 1);
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
    if (worker.held.length > 0) this.#callBack(worker);
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
      // The one held behind it now waits for what this one waited for (as the worker does).
      const { held } = worker;
      const at = held.indexOf(job);
      const next = held[at + 1];
      if (next !== undefined) next.after = job.after;
      held.splice(at, 1);
      this.#held--;
      job.after = undefined;
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
        job.reject(crossingError(`A message from ${this.#describeJob(job)}`, error)),
      );
    }
    this.#kill(worker);
  }

  #describeJob(job: Job): string {
    return `task \`${job.request.template.name}\` (action ${job.request.context.action.name})`;
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
    if (worker.held.length > 0) this.#callBack(worker);
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
