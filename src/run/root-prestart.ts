/**
 * When a run's root task gets its worker ahead of the run's first attempt: nothing may change
 * where it runs — a local run that adds no variables, no resume, no dry run, no core pinning, no
 * offloaded environment — and it may need a worker at all (a cached root may be a hit).
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import type { RunOptions } from "./run-options.js";

/**
 * Whether the root `task` of a run with `options` has its worker started as the run begins
 * (`Engine.prestartRoot`; the pools add their own conditions).
 */
export function prestartsRoot(task: TaskTemplate, options: RunOptions): boolean {
  if (task.environment.offload !== undefined) return false;
  if ((options.mode ?? "local") !== "local" || options.offload !== undefined) return false;
  if (options.dryRun || options.resume !== undefined || options.pinCpus) return false;
  if (options.envVars !== undefined && Object.keys(options.envVars).length > 0) return false;
  return !task.cache.isEnabled();
}
