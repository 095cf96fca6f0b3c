/**
 * Whether this thread or process is a flyte-ts worker. A task module that starts a run at its top
 * level would start it again in every worker that imports it (a fork bomb with the process
 * runtime); runs refuse to start in a worker instead.
 * @module
 */

const key = Symbol.for("flyte-ts.in-worker.v1");
const slot = globalThis as { [key]?: true };

/** Marks this thread or process as a worker; called before any task module is imported. */
export function markWorker(): void {
  slot[key] = true;
}

/** Whether {@link markWorker} was called here. */
export function inWorker(): boolean {
  return slot[key] === true;
}

/** The error code of a run started in a worker (a task module that starts a run at its top level). */
export const runStartedDuringImportCode = "RunStartedDuringImport";
