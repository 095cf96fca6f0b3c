/**
 * Imports a module by URL or package name, as `import()` does. The engine runs as a classic
 * script (engine-loader.ts), where `import()` is not available: the loader gives the script its
 * own, as `__flyteImport`. Run from its sources (tests), the engine uses `import()` itself.
 * @module
 */

declare const __flyteImport: ((specifier: string) => Promise<unknown>) | undefined;

/** Imports `specifier`: an absolute URL, or a package's name (resolved from flyte-ts's folder). */
export function importModule<T = Record<string, unknown>>(specifier: string): Promise<T> {
  return (
    typeof __flyteImport === "function" ? __flyteImport(specifier) : import(specifier)
  ) as Promise<T>;
}
