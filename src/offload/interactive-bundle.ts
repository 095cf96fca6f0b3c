/**
 * The code of an `interactiveMode` run: each module to run is bundled by esbuild into one
 * self-contained ES module — its relative imports inlined, packages left to the image's
 * node_modules — the TypeScript counterpart of upstream's pickled task for notebooks.
 * esbuild is the one tsx (a dependency) runs on; it is loaded only when a run asks for this.
 * @module
 */
import { relative, sep } from "node:path";
import { DeploymentError } from "../errors.js";
import { loadEsbuild } from "../internal/esbuild.js";

/** Where a module's bundle is in the bundle folder: its path under `root`, ending in `.mjs`. */
export function bundledPath(root: string, modulePath: string): string {
  return relative(root, modulePath)
    .split(sep)
    .join("/")
    .replace(/\.[cm]?[jt]sx?$/, "")
    .concat(".mjs");
}

/**
 * Bundles each of `modules` (absolute paths under `root`) into `outDir`, at
 * {@link bundledPath}, with an inline source map that carries the original sources (so the cache
 * can read each task's function as written). Function names are kept, since task names come
 * from them.
 *
 * @throws DeploymentError when esbuild cannot bundle a module, with esbuild's messages
 * @example
 * ```ts
 * await bundleModules(process.cwd(), ["/app/src/main.ts"], "/tmp/out"); // writes /tmp/out/src/main.mjs
 * ```
 */
export async function bundleModules(
  root: string,
  modules: readonly string[],
  outDir: string,
): Promise<void> {
  const { build } = await loadEsbuild();
  try {
    await build({
      entryPoints: [...modules],
      outdir: outDir,
      outbase: root,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      format: "esm",
      platform: "node",
      target: `node${process.versions.node.split(".")[0]}`,
      packages: "external",
      // The engine is the pod's own, even where a tsconfig `paths` entry maps it to sources.
      external: ["flyte-ts", "flyte-ts/*"],
      keepNames: true,
      sourcemap: "inline",
      sourcesContent: true,
      logLevel: "silent",
    });
  } catch (error) {
    const messages = (error as { errors?: readonly { text: string }[] }).errors ?? [];
    throw new DeploymentError(
      `interactiveMode could not bundle ${modules.join(", ")}: ${messages.map((m) => m.text).join("; ") || String(error)}. ` +
        'Fix the module, or run without interactiveMode (copyStyle "loaded_modules" ships the sources as they are).',
      { cause: error },
    );
  }
}
