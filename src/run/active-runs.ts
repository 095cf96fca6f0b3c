/**
 * The runs going on in this process, so that something outside a run (Ctrl-C in a `flyte.main`
 * program) can cancel them all.
 * @module
 */

/** A run in progress: its name and how to cancel it. */
interface ActiveRun {
  readonly name: string;
  readonly cancel: (reason: string) => void;
}

const active = new Set<ActiveRun>();

/** Registers a run in progress; returns the function that unregisters it when it ends. */
export function registerActiveRun(name: string, cancel: (reason: string) => void): () => void {
  const run: ActiveRun = { name, cancel };
  active.add(run);
  return () => {
    active.delete(run);
  };
}

/** The names of the runs in progress in this process. */
export function activeRunNames(): string[] {
  return [...active].map((r) => r.name);
}

/** Cancels every run in progress with `reason`; returns their names. */
export function cancelActiveRuns(reason: string): string[] {
  const names: string[] = [];
  for (const run of active) {
    names.push(run.name);
    run.cancel(reason);
  }
  return names;
}
