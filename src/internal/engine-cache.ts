/**
 * Tells the engine loader (engine-loader.ts) that this engine has done its first piece of work:
 * the moment to save V8's code cache of the engine, which then holds the code that work compiled.
 * The loader gives the engine's script its cache as `__flyteEngineCache`. Nothing happens when
 * the cache was used or saved already, or the engine runs from its sources (tests).
 * @module
 */

declare const __flyteEngineCache: { save(): void } | undefined;

/** Saves the engine's code cache now, if it has none yet. */
export function saveEngineCache(): void {
  if (typeof __flyteEngineCache === "object") __flyteEngineCache?.save();
}
