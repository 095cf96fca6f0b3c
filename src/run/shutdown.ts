/**
 * `flyte.shutdown()` and the slot of this process's default engine, apart from the engine's code:
 * importing `flyte-ts` loads this, and the engine (pools, stores, scheduler) only with a run.
 * @module
 */
import type { Engine } from "./engine.js";

let theDefault: Engine | undefined;

/** This process's default engine, if a run has made it. @internal */
export function theDefaultEngine(): Engine | undefined {
  return theDefault;
}

/** Makes `engine` this process's default engine and returns it. @internal */
export function setDefaultEngine(engine: Engine): Engine {
  theDefault = engine;
  return engine;
}

/**
 * Stops every reusable environment's workers in this process, and the workers other
 * environments keep warm for a few seconds after a run. Runs started later start new workers.
 * A process exits without it (idle workers do not keep it alive); call it to free memory or
 * reload code.
 *
 * @example
 * ```ts
 * await flyte.run(main);
 * await flyte.shutdown();
 * ```
 */
export function shutdown(): Promise<void> {
  return theDefault?.shutdown() ?? Promise.resolve();
}
