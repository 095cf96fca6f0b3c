/**
 * The `run` message that hands an attempt to a worker (protocol.ts). What stays the same across
 * attempts (the task's module, the run's folders and custom context) goes to each worker once,
 * under a key that the later messages carry instead.
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import { parameterName } from "../cache/inputs.js";
import { RuntimeDataValidationError } from "../errors.js";
import { isBatch } from "./batch.js";
import type { ExecuteRequest } from "./executor.js";
import type { Job, PooledWorker } from "./pooled-worker.js";
import type { RunPayload, ToWorker } from "./protocol.js";
import { checkArgs, type Wire } from "./serialization.js";

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

/** The key workers know `template`'s task by. */
export function taskKey(template: TaskTemplate): number {
  return keyOf(taskKeys, template);
}

const noTraces: RunPayload["traces"] = Object.freeze([]);

/**
 * The encoded payload of `request`'s `run` message: its inputs and traces. Throws when the task
 * or an input cannot go to a worker, naming it.
 */
export function runPayload(request: ExecuteRequest, wire: Wire): unknown {
  const { template } = request;
  if (template.moduleUrl === undefined) {
    throw new RuntimeDataValidationError(
      `Task \`${template.name}\` has no module a worker could import it from. Define it at the top level of a module, ` +
        'or give its environment `runtime: "inline"`.',
    );
  }
  checkArgs(
    request.args,
    (i) => `Input \`${parameterName(template, i)}\` of task \`${template.name}\``,
  );
  const run: RunPayload = {
    args: request.args,
    traces: request.traces.size === 0 ? noTraces : [...request.traces],
  };
  return wire.encode(run);
}

/** A `run` message. */
export type RunMessage = Extract<ToWorker, { t: "run" }>;

/**
 * The `run` message of `job` on `worker`, with the task's and the run's info the first time the
 * worker sees them (it is then counted as told).
 */
export function runMessage(job: Job, worker: PooledWorker): RunMessage {
  const { template, context } = job.request;
  const task = taskKey(template);
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
  worker.sentTasks.add(task);
  worker.sentRuns.add(run);
  return message;
}
