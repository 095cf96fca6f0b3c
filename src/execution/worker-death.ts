/**
 * Why a worker died, named by its cause: out of memory only when the worker said so (a thread's
 * `ERR_WORKER_OUT_OF_MEMORY`) or V8 printed its own out-of-memory marker before aborting (a
 * process); a native abort or crash is a crashed worker, named by its signal.
 * @module
 */
import { OOMError, RuntimeSystemError } from "../errors.js";
import type { WorkerExit, WorkerKind } from "./worker-handle.js";

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

/** Whose worker died: the pool's and the attempt's. */
export interface DeadWorker {
  readonly kind: WorkerKind;
  readonly environment: string;
  readonly heapLimitMb: number | undefined;
  readonly task: string;
  readonly action: string;
}

/**
 * The error of an attempt whose worker died: an `OOMError` when it ran out of memory, else a
 * `RuntimeSystemError` (code `WorkerDiedError`, retried per the task's retries).
 */
export function deathError(exit: WorkerExit, dead: DeadWorker): Error {
  const kind = dead.kind === "thread" ? "worker thread" : "worker process";
  const what = `Task \`${dead.task}\` (action ${dead.action}): its ${kind} of environment \`${dead.environment}\` ${describeExit(exit)}`;
  const detail = exit.error === undefined ? "" : `: ${exit.error.message}`;
  if (isOutOfMemory(exit)) {
    return new OOMError(
      `${what} after running out of memory (heap limit ${dead.heapLimitMb ?? "default"} MiB)${detail}. ` +
        "Raise `Resources({ memory })` of the environment, or use less memory per call.",
      { cause: exit.error },
    );
  }
  const stopped = exit.requested
    ? " because another attempt on the same worker was stopped and its worker had to be killed"
    : "";
  return new RuntimeSystemError(
    `${what}${stopped}${detail}. The attempt is retried per the task's retries; ` +
      'a native crash in a thread takes the whole process down, so use `runtime: "process"` for code that may crash.',
    { cause: exit.error, code: "WorkerDiedError" },
  );
}
