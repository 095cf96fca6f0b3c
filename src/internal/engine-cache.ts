/**
 * Tells the engine loader (engine-loader.ts) that this thread's engine has done its first piece
 * of work: the moment to save V8's code cache of the engine, which then holds the code that work
 * compiled. It does nothing when the cache was used or saved already, or the engine runs from its
 * sources (tests).
 * @module
 */

const slot = globalThis as { [key: symbol]: { save(): void } | undefined };
const key = Symbol.for("flyte-ts.engine-cache.v1");

/** Saves the engine's code cache now, if it has none yet. */
export function saveEngineCache(): void {
  slot[key]?.save();
}
