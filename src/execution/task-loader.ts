/**
 * Finds a task by (module URL, task name) in a process that did not define it: a worker, or the
 * `flyte-ts execute` entrypoint. Importing the module re-runs its `env.task` calls, which
 * register the tasks.
 * @module
 */
import type { AnyTask } from "../api/task.js";
import { lookupTask } from "../api/task-environment.js";
import { RuntimeSystemError } from "../errors.js";

let typeScriptLoader: Promise<void> | undefined;

/** Registers tsx's ESM loader once, so TypeScript modules can be imported. */
export function ensureTypeScriptLoader(): Promise<void> {
  typeScriptLoader ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  return typeScriptLoader;
}

/**
 * Imports `moduleUrl` and returns its task named `taskName`.
 * @throws RuntimeSystemError when the module has no such task at its top level.
 */
export async function loadTask(moduleUrl: string, taskName: string): Promise<AnyTask> {
  const known = lookupTask(taskName);
  if (known !== undefined) return known;
  if (/\.[cm]?tsx?$/.test(new URL(moduleUrl).pathname)) await ensureTypeScriptLoader();
  await import(moduleUrl);
  const task = lookupTask(taskName);
  if (task === undefined) {
    throw new RuntimeSystemError(
      `Task \`${taskName}\` was not found after importing ${moduleUrl}. Tasks must be defined at the top level ` +
        'of a module (not inside a function or a test) to run in a worker; define it there, or give its environment `runtime: "inline"`.',
      { code: "TaskNotFoundError" },
    );
  }
  return task;
}
