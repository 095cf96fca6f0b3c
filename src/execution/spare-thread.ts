/**
 * One worker thread started before any pool asks for one: `flyte-ts run` starts it as the
 * command begins (bin/flyte-ts.js, before it loads the engine), so the thread boots Node and
 * loads the worker program on the other core while this thread loads the CLI and the user's
 * module. The first thread pool that starts a worker with nothing of its own in it (no
 * variables, no heap limit) takes it instead of a new thread. The bin loads this module from a
 * file of its own and the engine has its copy, so the spare is kept in one slot per thread.
 * @module
 */
import { Worker } from "node:worker_threads";
import type { TaskTemplate } from "../api/task.js";
import type { Batch } from "./batched-post.js";
import type { FromWorker } from "./protocol.js";

/** A message from a worker as it arrives: one, or a turn's batch. */
type Arriving = FromWorker | Batch<FromWorker>;

/** The spare, with what it was started with and what it said before a pool took it. */
interface Spare {
  readonly worker: Worker;
  /** The process environment it was started with: a pool takes it only while that still holds. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Messages it posted before it was taken (its `ready`), handed to the pool that takes it. */
  readonly early: Arriving[];
  /** Its listeners until it is taken. */
  readonly keep: (message: Arriving) => void;
  readonly ignore: (error: Error) => void;
  exited: boolean;
}

/** The one slot, shared by every copy of this module in the thread. */
const slot = globalThis as { [key: symbol]: Spare | undefined };
const key = Symbol.for("flyte-ts.spare-thread.v1");

/**
 * What the worker program reads of its `workerData`: a spare loads the engine while it waits,
 * and the module of the task it is started for, when that is known.
 */
export interface SpareData {
  readonly spare: true;
  readonly task?: { readonly moduleUrl: string; readonly taskName: string };
}

/**
 * Starts the spare thread running `entry` (the worker program), unless one is waiting already;
 * `task`, when given, is the task it will most likely run first (a run's root): it imports that
 * task's module as soon as it has loaded the engine, before any pool takes it. It does not keep
 * the process alive; {@link discardSpareThread} stops one that no pool took.
 */
export function startSpareThread(entry: URL, task?: SpareData["task"]): void {
  if (slot[key] !== undefined) return;
  const env = { ...process.env };
  const data: SpareData = task === undefined ? { spare: true } : { spare: true, task };
  const worker = new Worker(entry, { env, workerData: data });
  worker.unref();
  const early: Arriving[] = [];
  const started: Spare = {
    worker,
    env,
    early,
    keep: (message) => early.push(message),
    // A spare that fails to start is not taken; the pool starts a worker of its own.
    ignore: () => {},
    exited: false,
  };
  worker.on("message", started.keep);
  worker.on("error", started.ignore);
  worker.once("exit", () => {
    started.exited = true;
    if (slot[key] === started) slot[key] = undefined;
  });
  slot[key] = started;
}

/**
 * Takes the spare for a pool that would start a thread with `env` (the whole environment it
 * would give the thread) and no heap limit: the spare if its environment is exactly that,
 * with the messages it posted so far, else `undefined`.
 */
export function takeSpareThread(
  env: Readonly<Record<string, string | undefined>>,
): { worker: Worker; early: readonly Arriving[] } | undefined {
  const taken = slot[key];
  if (taken === undefined || taken.exited || !sameEnv(taken.env, env)) return undefined;
  slot[key] = undefined;
  taken.worker.off("message", taken.keep);
  taken.worker.off("error", taken.ignore);
  taken.worker.ref();
  return { worker: taken.worker, early: taken.early };
}

/**
 * Whether the first worker of `template`'s pool, started ahead of the run (`PoolStore.prestart`),
 * would be a spare thread: a thread environment without a `ReusePolicy`, secrets, devices,
 * variables or a memory size (a heap limit).
 */
export function fitsSpareThread(template: TaskTemplate): boolean {
  const resources = template.resources;
  return (
    template.runtime === "thread" &&
    template.reusable === undefined &&
    template.secrets.length === 0 &&
    Object.keys(template.envVars).length === 0 &&
    resources?.getDevice() == null &&
    resources?.memoryLimitBytes === undefined &&
    resources?.memoryRequestBytes === undefined
  );
}

/** Stops the spare if no pool took it. */
export function discardSpareThread(): void {
  const left = slot[key];
  slot[key] = undefined;
  if (left !== undefined && !left.exited) void left.worker.terminate();
}

function sameEnv(
  a: Readonly<Record<string, string | undefined>>,
  b: Readonly<Record<string, string | undefined>>,
): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => a[key] === b[key]);
}
