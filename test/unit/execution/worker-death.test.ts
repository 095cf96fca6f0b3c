// A worker's death is named by its cause: out of memory only on the worker's own word or V8's
// marker, a native abort as a crash with its signal.
import { describe, expect, it } from "vitest";
import { describeExit, isOutOfMemory } from "../../../src/execution/worker-death.js";
import type { WorkerExit } from "../../../src/execution/worker-handle.js";

const exit = (fields: Partial<WorkerExit>): WorkerExit => ({
  code: null,
  signal: null,
  error: undefined,
  requested: false,
  ...fields,
});

describe("a worker's death", () => {
  it("is out of memory when a thread reports ERR_WORKER_OUT_OF_MEMORY", () => {
    const error = Object.assign(new Error("heap"), { code: "ERR_WORKER_OUT_OF_MEMORY" });
    expect(isOutOfMemory(exit({ code: 1, error }))).toBe(true);
  });

  it("is out of memory when a process printed V8's out-of-memory marker before aborting", () => {
    const stderrTail =
      "<--- Last few GCs --->\n\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n";
    expect(isOutOfMemory(exit({ signal: "SIGABRT", stderrTail }))).toBe(true);
  });

  it("is a crash, named by its signal, when a process aborts without that marker", () => {
    const aborted = exit({ signal: "SIGABRT", stderrTail: "Assertion failed: native code\n" });
    expect(isOutOfMemory(aborted)).toBe(false);
    expect(describeExit(aborted)).toBe("was killed by signal SIGABRT (a native abort)");
  });

  it("names an exit code and a SIGKILL's likely senders", () => {
    expect(describeExit(exit({ code: 7 }))).toBe("exited with code 7");
    expect(describeExit(exit({ signal: "SIGKILL" }))).toMatch(/out-of-memory killer/);
  });
});
