/**
 * Loads the user's module: TypeScript as a compiled copy (`execution/typescript-import.ts`), or
 * through tsx where a copy cannot stand in, with `flyte-ts` pinned to the CLI's own engine (the
 * same loading workers do: `execution/task-loader.ts`). A JavaScript module whose `flyte-ts`
 * already is this engine is imported plainly: registering tsx's loader starts Node's loader
 * thread and sends every later import through it, a third of a cold `flyte-ts run`.
 * @module
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ensureTypeScriptLoader } from "../execution/task-loader.js";
import { compileTypeScript, importsTypeScript } from "../execution/typescript-import.js";
import { importModule } from "../internal/import-module.js";
import { UsageError } from "./usage.js";

/**
 * Imports `file` (`.ts`, `.mts`, `.js`, ...) relative to the working directory and returns its
 * exports. Importing runs the module's top level, which defines its environments and tasks.
 * @throws UsageError when the file does not exist; whatever the module throws while loading.
 */
export async function loadModule(file: string): Promise<Readonly<Record<string, unknown>>> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new UsageError(`File ${file} does not exist (looked for ${path}).`);
  }
  let url = pathToFileURL(path).href;
  if (needsLoader(path)) {
    const compiled = await compileTypeScript(path);
    if (compiled === undefined) await ensureTypeScriptLoader();
    else url = compiled;
  }
  try {
    return await importModule(url);
  } catch (error) {
    if (!loadedAsCommonJs(error)) throw error;
    throw new UsageError(
      `Node loaded ${file} as CommonJS, but it uses \`import\`, and flyte-ts is an ES module only. ` +
        'Add `"type": "module"` to the package.json next to it, or rename it to .mts (or .mjs).',
      { cause: error },
    );
  }
}

/** Whether `error` is Node refusing an ES module file that sits in a CommonJS package. */
function loadedAsCommonJs(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    code === "ERR_REQUIRE_CYCLE_MODULE" ||
    code === "ERR_REQUIRE_ESM" ||
    (error instanceof SyntaxError && /outside a module/.test(error.message))
  );
}

/** This engine's package folder (the one holding its package.json), real path. */
const enginePackage = realpathSync(
  dirname(fileURLToPath(new URL("../../package.json", import.meta.url))),
);

/**
 * Whether importing the module at `path` needs the loader: TypeScript, a JavaScript module that
 * imports TypeScript, or one whose `flyte-ts` is not this engine (or cannot be found from it).
 */
function needsLoader(path: string): boolean {
  if (!/\.[cm]?js$/.test(path)) return true;
  try {
    const found = createRequire(path).resolve("flyte-ts/package.json");
    if (realpathSync(dirname(found)) !== enginePackage) return true;
    return importsTypeScript.test(readFileSync(path, "utf8"));
  } catch {
    return true;
  }
}
