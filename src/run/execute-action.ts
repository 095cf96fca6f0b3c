/**
 * The body of `flyte-ts execute`, the command inside an offloaded action's container: unpack the
 * code bundle, load the task, read its inputs, run it under its own local engine (its sub-tasks
 * run there too), and write its outputs, or an error file, into the outputs folder.
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Task } from "../api/task.js";
import { RuntimeSystemError } from "../errors.js";
import type { ExecutorFactory } from "../execution/executor.js";
import { loadTask } from "../execution/task-loader.js";
import { extractBundle } from "../offload/bundle.js";
import { readInputs, writeError, writeOutputs } from "../offload/io.js";
import { RunStore } from "../record/run-store.js";
import { noLease, type Scheduler } from "../scheduler/scheduler.js";
import { defaultEngine } from "./engine.js";
import { RunContext } from "./run.js";

/** What `flyte-ts execute` was asked to do. */
export interface ExecuteActionOptions {
  /** The inputs file. */
  inputs: string;
  /** The folder to write `outputs.v8` or `error.json` into. */
  outputsPath: string;
  /** The run's name; the local run inside the container takes it too. */
  runName: string;
  /** The action's name in the parent run. */
  name: string;
  /** The task's module, relative to `dest` (or absolute). */
  module: string;
  /** The task's full name, `"<env>.<function>"`. */
  task: string;
  /** The code version (informational). */
  version?: string;
  /** Folder for large data; the local run's `rawDataPath`. */
  rawDataPath?: string;
  /** Folder for checkpoints (kept for the flyte command line; unused yet). */
  checkpointPath?: string;
  /** A code bundle to unpack into `dest` first. */
  tgz?: string;
  /** Where the bundle is unpacked and the module is looked up. @default the working directory */
  dest?: string;
  /** Loads the module before the task is looked up (the CLI pins `flyte-ts` to its own engine). */
  loadModule?: (path: string) => Promise<unknown>;
  /**
   * Which attempt of the action this is (`flyte.ctx().attemptNumber`); the CLI passes a string.
   * The task's own retries are not applied here: whoever submitted the action owns them.
   * @default 0
   */
  attempt?: number | string;
}

/**
 * Runs one offloaded action and resolves `true` when it succeeded (outputs written) or `false`
 * when it failed (error file written). Errors before the task runs (a bad inputs file, a missing
 * module) are written to the error file too.
 * @example
 * ```ts
 * await executeAction({ inputs: "in.v8", outputsPath: "out", runName: "r", name: "a0", module: "app.ts", task: "app.main" });
 * ```
 */
export async function executeAction(options: ExecuteActionOptions): Promise<boolean> {
  try {
    const dest = resolve(options.dest ?? ".");
    if (options.tgz !== undefined) await extractBundle(resolve(options.tgz), dest);
    const modulePath = resolve(dest, options.module);
    await options.loadModule?.(modulePath);
    const loaded = await loadTask(pathToFileURL(modulePath).href, options.task);
    // One attempt only: the controller that submitted the action (or the cluster) retries it.
    const task = loaded.retries.count > 0 ? loaded.override({ retries: 0 }) : loaded;
    const attempt = Number(options.attempt ?? 0);
    if (!Number.isInteger(attempt) || attempt < 0) {
      throw new RuntimeSystemError(
        `--attempt must be a whole number >= 0, got ${JSON.stringify(options.attempt)}.`,
      );
    }
    const inputs = await readInputs(resolve(options.inputs));
    // The action's own run is recorded in its outputs folder: on a shared filesystem (Slurm) the
    // project's .flyte/runs.db and run folder belong to the parent run of the same name.
    const record = join(resolve(options.outputsPath), "run");
    const context = new RunContext(
      {
        name: options.runName,
        runBaseDir: record,
        // The pod's record of this action replaces an earlier attempt's, when a .flyte folder
        // is shared (a pod's own folder is fresh).
        replace: true,
        customContext: { ...inputs.customContext },
        ...(options.rawDataPath === undefined ? {} : { rawDataPath: options.rawDataPath }),
      },
      {
        scheduler: podScheduler(defaultEngine().scheduler),
        runStore: new RunStore(record),
        executorFor: asAttempt(defaultEngine().pools.executorsForRun(), attempt),
      },
    );
    const run = await context.run(
      task as unknown as Task<unknown[], unknown>,
      ...(inputs.args as unknown[]),
    );
    await writeOutputs(resolve(options.outputsPath), await run.outputs());
    return true;
  } catch (error) {
    await writeError(resolve(options.outputsPath), error);
    return false;
  }
}

/** Executors that tell the root action's body it runs as attempt `attempt` of its action. */
function asAttempt(executors: ExecutorFactory, attempt: number): ExecutorFactory {
  if (attempt === 0) return executors;
  return (template) => {
    const executor = executors(template);
    return {
      execute: (request) =>
        executor.execute(
          request.context.action.name === "a0"
            ? { ...request, context: { ...request.context, attemptNumber: attempt } }
            : request,
        ),
      close: () => executor.close(),
    };
  };
}

/**
 * Kubernetes already admitted this pod for the action it runs: the root's attempts are not
 * admitted again against the pod's own inventory (a pod's GPUs may be hidden from nvidia-smi's
 * view, and a retry must not wait for itself); its sub-actions are.
 */
function podScheduler(local: Scheduler): Scheduler {
  return {
    admit: (request) => (request.action === "a0" ? Promise.resolve(noLease) : local.admit(request)),
  };
}
