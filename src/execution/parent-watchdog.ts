/**
 * A process worker's watch over its controller: a tiny thread that checks every 250 ms whether
 * the process that forked this one is still its parent, and kills this process (SIGKILL) when it
 * is not. A thread, because the worker's own event loop may be stuck in a body's busy loop (the
 * IPC channel's `disconnect` is never seen then), so `kill -9` of the controller leaves no worker
 * behind for longer than about a second.
 * @module
 */
import { Worker } from "node:worker_threads";

/** How often the watchdog looks at the parent. Milliseconds. */
export const parentCheckMs = 250;

const watchdogSource = `
const { workerData } = require("node:worker_threads");
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(process.pid, "SIGKILL");
}, workerData.everyMs);
`;

/**
 * Starts the watchdog in this process (a forked worker); it never keeps the process alive.
 * Does nothing when the parent is already gone or cannot be known.
 */
export function watchParent(everyMs: number = parentCheckMs): void {
  const parent = process.ppid;
  if (parent <= 1) return;
  const watchdog = new Worker(watchdogSource, {
    eval: true,
    workerData: { parent, everyMs },
    // Small: it runs one timer. The worker's own heap limit does not apply to it.
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
    stdout: false,
    stderr: false,
  });
  watchdog.unref();
  // A watchdog that cannot start must not take the worker down; the IPC disconnect still works.
  watchdog.on("error", () => {});
}
