/**
 * Helpers for testing programs that use flyte-ts: a manual clock and a memory cache store.
 *
 * @example
 * ```ts
 * import { ManualClock } from "flyte-ts/testing";
 * const clock = new ManualClock();
 * const pending = flyte.withRunContext({ clock }).run(flaky);
 * await clock.nextTimer();
 * clock.advance(500);
 * ```
 * @module
 */
export { MemoryCacheStore } from "./cache/cache-store.js";
export { type Clock, ManualClock, systemClock } from "./internal/time.js";
export { Engine, type EngineOptions } from "./run/engine.js";

import { Engine, type EngineOptions } from "./run/engine.js";

/**
 * An engine of its own — scheduler, worker pools, stores — for tests that must not share the
 * process's default engine. Shut it down when done.
 *
 * @example
 * ```ts
 * const engine = createEngine({ scheduler: new LocalScheduler({ inventory }) });
 * await new flyte.RunContext({ cacheDir }, engine).run(main);
 * await engine.shutdown();
 * ```
 */
export function createEngine(options: EngineOptions = {}): Engine {
  return new Engine(options);
}
