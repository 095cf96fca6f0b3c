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
