/**
 * esbuild, the compiler tsx (a dependency) runs on, loaded only when something needs it: an
 * `interactiveMode` bundle, or a TypeScript module with no compiled copy yet.
 * @module
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { importModule } from "./import-module.js";

/** A message esbuild reports. */
export interface EsbuildMessage {
  readonly text: string;
}

/** What a plugin's `onResolve` callback receives. */
export interface EsbuildResolveArgs {
  readonly path: string;
  readonly importer: string;
  readonly kind: string;
  readonly resolveDir: string;
  readonly pluginData: unknown;
}

/** The result of `build.resolve`. */
export interface EsbuildResolved {
  readonly path: string;
  readonly external: boolean;
  readonly errors: readonly EsbuildMessage[];
}

/** The part of a plugin's `build` used here. */
export interface EsbuildPluginBuild {
  onResolve(
    options: { filter: RegExp },
    callback: (
      args: EsbuildResolveArgs,
    ) => Promise<{ path: string; external: true } | undefined> | undefined,
  ): void;
  resolve(
    path: string,
    options: { kind: string; resolveDir: string; importer: string; pluginData: unknown },
  ): Promise<EsbuildResolved>;
}

/** The part of esbuild's API used here. */
export interface Esbuild {
  build(options: Record<string, unknown>): Promise<{
    errors: readonly EsbuildMessage[];
    outputFiles?: readonly { path: string; text: string }[];
  }>;
}

let esbuild: Promise<Esbuild> | undefined;

/** esbuild's API, from tsx's own dependency (one esbuild for both). */
export function loadEsbuild(): Promise<Esbuild> {
  esbuild ??= (async () => {
    const fromTsx = createRequire(createRequire(import.meta.url).resolve("tsx/package.json"));
    return await importModule<Esbuild>(pathToFileURL(fromTsx.resolve("esbuild")).href);
  })();
  return esbuild;
}
