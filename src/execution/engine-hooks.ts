/**
 * Module resolution hooks for the user's module: `import ... from "flyte-ts"` resolves to the
 * very engine the CLI runs, so the user's tasks, errors and `ctx()` are the CLI's own (a second
 * copy, say `src/` through a tsconfig path, would break `instanceof` between the two).
 * Registered by `task-loader.ts` with `module.register`; runs on Node's loader thread.
 * @module
 */
import type { InitializeHook, ResolveHook } from "node:module";

/** Specifier to module URL, e.g. `"flyte-ts"` to `file:///.../dist/index.js`. */
export type EngineModules = Readonly<Record<string, string>>;

let engineModules = new Map<string, string>();

/** Receives the specifiers to pin (the `data` of `module.register`). */
export const initialize: InitializeHook<EngineModules> = (data) => {
  engineModules = new Map(Object.entries(data));
};

/** Resolves a pinned specifier to its URL; leaves every other specifier to the next hook. */
export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  const url = engineModules.get(specifier);
  if (url === undefined) return nextResolve(specifier, context);
  return { url, format: "module", shortCircuit: true };
};
