/**
 * What a run's owning process does on the side while the run goes: answer `flyte-ts runs cancel`
 * (a request row it polls) and publish what its scheduler holds and waits for (read by
 * `flyte-ts status`).
 * @module
 */
import { type HostUsage, watchRun } from "../record/run-cancel.js";
import type { RunStore } from "../record/run-store.js";
import { LocalScheduler } from "../scheduler/local-scheduler.js";
import type { Scheduler } from "../scheduler/scheduler.js";

function usageOf(scheduler: Scheduler): (() => HostUsage | undefined) | undefined {
  if (!(scheduler instanceof LocalScheduler)) return undefined;
  return () => {
    const usage = scheduler.usage();
    return {
      cpuMilli: usage.cpuMilli,
      memoryBytes: usage.memoryBytes,
      devices: usage.devices,
      waiting: scheduler.waitingFor(),
    };
  };
}

/**
 * Starts watching run `name` for cancel requests (calling `cancel` with a sentence saying who
 * asked) and publishing the scheduler's usage; returns the function that stops.
 */
export function watchOwnRun(
  runStore: RunStore,
  name: string,
  scheduler: Scheduler,
  cancel: (reason: string) => void,
  now: () => number,
): () => void {
  const db = runStore.database;
  if (db === undefined) return () => {};
  const usage = usageOf(scheduler);
  try {
    return watchRun(db, name, {
      onCancel: (byPid) =>
        cancel(
          `cancelled from another terminal (\`flyte-ts runs cancel ${name}\`, process ${byPid})`,
        ),
      ...(usage === undefined ? {} : { usage }),
      now,
    });
  } catch {
    return () => {};
  }
}
