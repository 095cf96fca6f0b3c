/**
 * Why a worker died, named by its cause: out of memory only when the worker said so (a thread's
 * `ERR_WORKER_OUT_OF_MEMORY`) or V8 printed its own out-of-memory marker before aborting (a
 * process); a native abort or crash is a crashed worker, named by its signal.
 * @module
 */
import type { WorkerExit } from "./worker-handle.js";

/** What V8 prints on stderr when a heap runs out, before it aborts the process. */
const v8OutOfMemory =
  /JavaScript heap out of memory|Reached heap limit|Fatal (?:JavaScript|process) out of memory|FATAL ERROR: [^\n]*Allocation failed/;

/** How many bytes of a process worker's stderr are kept to look for V8's marker. */
export const stderrTailBytes = 4096;

/** Whether the worker ran out of memory, by its own report or V8's marker. */
export function isOutOfMemory(exit: WorkerExit): boolean {
  if ((exit.error as { code?: string } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY") {
    return true;
  }
  return exit.stderrTail !== undefined && v8OutOfMemory.test(exit.stderrTail);
}

const signalMeaning: Readonly<Record<string, string>> = {
  SIGABRT: "a native abort",
  SIGSEGV: "a native crash: invalid memory access",
  SIGBUS: "a native crash: bus error",
  SIGILL: "a native crash: illegal instruction",
  SIGFPE: "a native crash: arithmetic error",
  SIGTRAP: "a native crash: V8 hit a fatal error",
  SIGKILL: "killed by another process, or by the operating system's out-of-memory killer",
  SIGTERM: "asked to terminate by another process",
};

/** `"was killed by signal SIGABRT (a native abort)"`, `"exited with code 3"`. */
export function describeExit(exit: WorkerExit): string {
  if (exit.signal !== null) {
    const meaning = signalMeaning[exit.signal];
    return `was killed by signal ${exit.signal}${meaning === undefined ? "" : ` (${meaning})`}`;
  }
  return `exited with code ${exit.code}${exit.code === 134 ? " (an abort)" : ""}`;
}
