/**
 * The events of one trivial sub-task call, from queued to finished, as the controller emits them:
 * for the benchmarks that feed a run's observers without running anything (run-store-write.ts,
 * observe.ts).
 * @module
 */
import type { RunEvent } from "../src/record/events.js";

const parameters = [{ name: "x", optional: false, rest: false }];

/** The events of call `i` of a run, from queued to finished. */
export function callEvents(i: number, action: string): { queued: RunEvent; ran: RunEvent[] } {
  const at = 1_700_000_000_000 + i;
  return {
    queued: {
      type: "action-queued",
      action,
      parent: "a0",
      task: "bench.inc",
      group: undefined,
      at,
      label: `inc(x=${i})`,
      inputs: [i],
      parameters,
    },
    ran: [
      { type: "attempt-started", action, attempt: 0, at },
      { type: "attempt-phase", action, attempt: 0, at, phase: "admitted" },
      { type: "attempt-phase", action, attempt: 0, at, phase: "placed", lane: "bench/thread-3" },
      { type: "attempt-phase", action, attempt: 0, at, phase: "running" },
      { type: "attempt-finished", action, attempt: 0, at: at + 1 },
      { type: "action-finished", action, status: "succeeded", at: at + 1, output: i + 1 },
    ],
  };
}
