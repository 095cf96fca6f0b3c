/**
 * Imports a module by URL or package name, as `import()` does. The engine runs as a classic
 * script (engine-loader.ts), where `import()` is not available: the loader leaves one in a global
 * slot, and this uses it. Run from its sources (tests), the engine uses its own.
 * @module
 */

const slot = globalThis as { [key: symbol]: ((specifier: string) => Promise<unknown>) | undefined };
const key = Symbol.for("flyte-ts.import.v1");

/** Imports `specifier`: an absolute URL, or a package's name (resolved from flyte-ts's folder). */
export function importModule<T = Record<string, unknown>>(specifier: string): Promise<T> {
  const provided = slot[key];
  return (provided === undefined ? import(specifier) : provided(specifier)) as Promise<T>;
}
