/**
 * The program a worker runs, as a worker thread or as a child process: it loads tasks by
 * (module URL, task name), runs each attempt's body in its own frame, and forwards the body's
 * task calls and trace records to the controller. It never schedules anything itself.
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import type { AnyTask } from "../api/task.js";
import { parameterName } from "../cache/inputs.js";
import {
  type ControllerChannel,
  currentFrame,
  type SubCall,
  type TraceRecord,
  taskContext,
} from "../context/context.js";
import { saveEngineCache } from "../internal/engine-cache.js";
import { pinFromEnv } from "../internal/native.js";
import { markWorker } from "../internal/worker-flag.js";
import { captureInlineOutput, type LogSink } from "../record/logs.js";
import { AttemptAbort } from "./attempt-abort.js";
import { isBatch } from "./batch.js";
import { alwaysClones, type Batch, BatchedPost } from "./batched-post.js";
import { runBody } from "./body-runner.js";
import { watchParent } from "./parent-watchdog.js";
import type { FromWorker, RunInfo, RunPayload, TaskInfo, ToWorker } from "./protocol.js";
import { HeldAttempts } from "./sent-ahead.js";
import {
  checkArgs,
  checkCrossable,
  crossingError,
  processWire,
  threadWire,
} from "./serialization.js";
import type { SpareData } from "./spare-thread.js";
import { loadTask } from "./task-loader.js";

/**
 * Sends a message to the controller. Messages that follow another in one turn of this worker's
 * event loop (its timers' bodies ending together, a fan-out's calls) leave together as one batch
 * at the turn's end (batched-post.ts); `safe` is false for a payload whose copy could fail, which
 * leaves at once so that the failure is seen here.
 */
const sender = new BatchedPost<FromWorker>({
  send:
    parentPort !== null
      ? (message) => parentPort?.postMessage(message)
      : (message) => {
          process.send?.(message);
        },
  atTurnEnd: setImmediate,
});

function post(message: FromWorker, safe = true): void {
  sender.post(message, safe);
}

type RunMessage = Extract<ToWorker, { t: "run" }>;

const jobs = new Map<number, AttemptAbort>();
/** Attempts the pool sent ahead, each started as the one before it lets go of its slot. */
const ahead = new HeldAttempts<RunMessage>((message) => void runJob(message));
const pendingCalls = new Map<
  number,
  { resolve: (value: unknown) => void; reject: (error: unknown) => void }
>();
let nextCall = 0;
const taskInfos = new Map<number, TaskInfo>();
/** Tasks this worker has loaded, by the pool's task key. */
const loaded = new Map<number, AnyTask>();
const runInfos = new Map<number, RunInfo>();
const noTraces: ReadonlyMap<string, TraceRecord> = new Map();

const wire = parentPort !== null ? threadWire : processWire;

function channelFor(job: number): ControllerChannel {
  return {
    submit(call: SubCall, task?: unknown): Promise<unknown> {
      const template = task as AnyTask | undefined;
      let payload: unknown;
      try {
        checkArgs(call.args, (i) =>
          template === undefined
            ? `Input ${i} of task \`${call.taskName}\``
            : `Input \`${parameterName(template, i)}\` of task \`${call.taskName}\``,
        );
        payload = wire.encode(
          template !== undefined && isBatch(template) ? { ...call, batch: true } : call,
        );
      } catch (error) {
        return Promise.reject(error);
      }
      const id = nextCall++;
      return new Promise((resolve, reject) => {
        pendingCalls.set(id, { resolve, reject });
        post({ t: "call", job, call: id, payload }, alwaysClones(payload));
        ahead.letGo(job);
      });
    },
    recordTrace(action: string, traceId: string, record: TraceRecord): void {
      const payload = wire.encode({ action, traceId, record });
      post({ t: "trace", job, payload }, alwaysClones(payload));
    },
  };
}

// Marks this thread or process as a flyte-ts worker before any task module is imported: a module
// that starts a run at its top level must not start it again in every worker that imports it.
markWorker();

// Output written while a body runs goes to the controller, attributed to the attempt whose frame
// is current (every frame of one attempt, traces included, shares its `sequences` map).
const capturing = new Set<string>();
const jobOfAttempt = new WeakMap<Map<string, number>, number>();
const outputSink: LogSink = {
  write(_action, stream, text) {
    const frame = currentFrame();
    const job = frame === undefined ? undefined : jobOfAttempt.get(frame.sequences);
    if (job !== undefined) post({ t: "log", job, stream, text });
  },
};

async function runJob(message: RunMessage): Promise<void> {
  const { job } = message;
  if (message.taskInfo !== undefined) taskInfos.set(message.task, message.taskInfo);
  if (message.runInfo !== undefined) runInfos.set(message.run, message.runInfo);
  const { moduleUrl, taskName, version } = taskInfos.get(message.task) as TaskInfo;
  const run = runInfos.get(message.run) as RunInfo;
  if (!capturing.has(run.runName)) {
    capturing.add(run.runName);
    captureInlineOutput(run.runName, outputSink, run.echoLogs);
  }
  const context = taskContext(run, {
    action: message.action,
    taskName,
    attemptNumber: message.attemptNumber,
    version,
    group: message.group,
    devices: message.devices ?? [],
    cpus: message.cpus ?? [],
    secretsDir: message.secretsDir,
  });
  const abort = new AttemptAbort();
  jobs.set(job, abort);
  let startedAt = performance.now();
  try {
    const { args, traces } = wire.decode(message.payload) as RunPayload;
    let task = loaded.get(message.task);
    if (task === undefined) {
      // The pool counts the body as started once it knows this worker has the task loaded.
      task = await loadTask(moduleUrl, taskName);
      loaded.set(message.task, task);
      post({ t: "started", job, task: message.task });
      startedAt = performance.now();
    }
    const running = runBody(
      {
        task,
        args,
        batch: message.batch,
        context,
        abort,
        channel: channelFor(job),
        traces: traces.length === 0 ? noTraces : new Map(traces),
      },
      (value) => {
        checkCrossable(value, () => `The output of task \`${taskName}\``);
        try {
          return wire.encode(value);
        } catch (error) {
          throw crossingError(`The output of task \`${taskName}\``, error);
        }
      },
      (frame) => jobOfAttempt.set(frame.sequences, job),
    );
    // A body still unsettled once this turn is over is awaiting: the pool may give its slot to
    // another attempt (a CPU-bound body finishes within its turn and keeps it).
    const yielded = setImmediate(() => {
      post({ t: "waiting", job });
      ahead.letGo(job);
    });
    let output: unknown;
    try {
      output = await running;
    } finally {
      clearImmediate(yielded);
    }
    // The engine has compiled what an attempt needs: its code cache is made now, once per
    // machine (when there is none), before the worker can be stopped.
    saveEngineCache();
    try {
      const runMs = performance.now() - startedAt;
      post({ t: "done", job, ok: true, payload: output, runMs }, alwaysClones(output));
    } catch (error) {
      throw crossingError(`The output of task \`${taskName}\``, error);
    }
  } catch (error) {
    const payload = wire.encodeError(error);
    saveEngineCache();
    const runMs = performance.now() - startedAt;
    post({ t: "done", job, ok: false, payload, runMs }, alwaysClones(payload));
  } finally {
    jobs.delete(job);
    ahead.letGo(job);
  }
}

function onMessage(message: ToWorker | Batch<ToWorker>): void {
  switch (message.t) {
    case "batch":
      for (const one of message.messages) onMessage(one);
      return;
    case "run":
      ahead.arrived(message);
      return;
    case "reply": {
      const pending = pendingCalls.get(message.call);
      if (pending === undefined) return;
      pendingCalls.delete(message.call);
      if (message.ok) pending.resolve(wire.decode(message.payload));
      else pending.reject(wire.decodeError(message.payload));
      return;
    }
    case "abort":
      jobs.get(message.job)?.abort(new Error("The attempt was stopped by the controller."));
      post({ t: "abort-ack", job: message.job });
      return;
    case "load":
      for (const [key, info] of message.tasks) {
        taskInfos.set(key, info);
        // A task that cannot load fails the attempt that runs it, with the reason.
        loadTask(info.moduleUrl, info.taskName).catch(() => {});
      }
      return;
  }
}

if (parentPort !== null) {
  parentPort.on("message", onMessage);
} else if (process.send !== undefined) {
  process.on("message", (message) => onMessage(message as ToWorker | Batch<ToWorker>));
  // The controller going away (Ctrl-C, crash) must not leave this process behind.
  process.on("disconnect", () => process.exit(0));
  // ...also when the body is stuck in a loop and the disconnect is never seen.
  watchParent();
} else {
  throw new Error("flyte-ts worker-entry must run as a worker thread or a forked child process.");
}
// A worker started for a `pinCpus` attempt carries its cores in its environment (a pool per set
// of environment variables, so a pinned worker only ever serves attempts pinned alike).
pinFromEnv(process.env);
post({ t: "ready" });
// A spare thread (spare-thread.ts) has time before a pool takes it: it loads the engine that the
// task modules it will import all import, then the module of the task it was started for (the
// pool's `load` and `run` messages find that import under way or done).
const spare = workerData as SpareData | null;
if (spare?.spare === true) {
  const task = spare.task;
  void import("../index.js")
    .then(() => task && loadTask(task.moduleUrl, task.taskName))
    // A module that cannot load fails the attempt that runs its task, with the reason.
    .catch(() => {});
}
