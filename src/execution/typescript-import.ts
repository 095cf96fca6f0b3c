/**
 * TypeScript modules without tsx's loader. On Node 20 tsx's loader runs on a thread of its own
 * and every later import takes a round trip to it: most of a cold `flyte-ts run` of a
 * TypeScript program, and again in each worker that imports a `.ts` task module. Instead each
 * TypeScript module of the program is compiled by esbuild (the one tsx runs on, with tsx's
 * settings) into an ES module under `node_modules/.cache/flyte-ts/` next to the packages the
 * module imports, with its imports of other TypeScript modules pointed at their compiled copies
 * and `flyte-ts` at this very engine; Node imports that. A copy is reused while its module and
 * tsconfig.json are unchanged, so an unchanged program, and its workers, never load esbuild.
 *
 * What this does not take is left to tsx (the functions return `undefined`, and tsx also reports
 * the errors): `.tsx` and `.cts` modules, TypeScript in a CommonJS package, a JavaScript module
 * that imports TypeScript, `vitest` imported in a worker (tsx's hooks stub it), no
 * `node_modules` folder to cache in, or anything esbuild cannot compile.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { threadId } from "node:worker_threads";
import { rememberCompiled } from "../internal/compiled-modules.js";
import {
  type Esbuild,
  type EsbuildPluginBuild,
  type EsbuildResolveArgs,
  loadEsbuild,
} from "../internal/esbuild.js";
import { sha256Hex } from "../internal/hash.js";
import { inWorker } from "../internal/worker-flag.js";

/** A relative import of a TypeScript file, in JavaScript source. */
export const importsTypeScript = /(?:from\s*|import\s*\(\s*|import\s+)["'][^"']+\.[cm]?tsx?["']/;

/** Bump when the compiled form changes: copies made before it are not reused. */
const compiledForm = 1;

/** What a compiled copy records of its module, on its last line. */
interface Header {
  /** Hash of the module's text and its tsconfig.json: the copy is current while it matches. */
  readonly key: string;
  /** The TypeScript modules it imports (absolute paths), compiled beside it. */
  readonly deps: readonly string[];
  /** It imports `vitest`, which only tsx's hooks stub in a worker. */
  readonly vitest: boolean;
  /** It imports a JavaScript module of the program that imports TypeScript. */
  readonly jsImportsTs: boolean;
}

const headerMark = "// flyte-ts compiled ";

/**
 * The URL of the compiled copy of the TypeScript module at `path` (and of every TypeScript
 * module it imports), compiled now unless current copies exist; `undefined` when tsx must load
 * it instead (see the module's doc).
 */
export async function compileTypeScript(path: string): Promise<string | undefined> {
  const pins = enginePins();
  if (pins === undefined) return undefined;
  let esbuild: Esbuild | undefined;
  const pending = [path];
  const seen = new Set<string>();
  let rootCopy: string | undefined;
  while (pending.length > 0) {
    const module = pending.pop() as string;
    if (seen.has(module)) continue;
    seen.add(module);
    const target = compiledPath(module, pins);
    if (target === undefined || !compilable(module)) return undefined;
    const key = currentKey(module);
    let header = readHeader(target);
    if (header?.key !== key || header.deps.some((dep) => !existsSync(dep))) {
      esbuild ??= await loadEsbuild();
      const compiled = await compile(esbuild, module, target, pins);
      if (compiled === undefined) return undefined;
      header = { key, ...compiled.imports };
      if (!writeCopy(target, `${compiled.code}\n${headerMark}${JSON.stringify(header)}\n`)) {
        return undefined;
      }
    }
    if (header.jsImportsTs || (header.vitest && inWorker())) return undefined;
    const url = pathToFileURL(target).href;
    rememberCompiled(url, pathToFileURL(module).href);
    rootCopy ??= url;
    pending.push(...header.deps);
  }
  // Stack traces and the cache's function versions read the compiled copies' source maps.
  process.setSourceMapsEnabled(true);
  return rootCopy;
}

/**
 * `flyte-ts` and `flyte-ts/testing` as this engine's modules, so the program's tasks, errors and
 * `ctx()` are the engine's own even where a tsconfig `paths` entry maps `flyte-ts` to sources;
 * `undefined` when the engine runs from its sources (tests), where there are none to pin to.
 */
function enginePins(): Readonly<Record<string, string>> | undefined {
  const index = new URL("../index.js", import.meta.url);
  if (!existsSync(index)) return undefined;
  return {
    "flyte-ts": index.href,
    "flyte-ts/testing": new URL("../testing.js", import.meta.url).href,
  };
}

/** Whether the module at `path` is TypeScript that Node would run as an ES module. */
function compilable(path: string): boolean {
  if (path.endsWith(".mts")) return true;
  return path.endsWith(".ts") && packageType(dirname(path)) === "module";
}

/** The `type` of the package.json nearest above `dir` (Node's package scope). */
function packageType(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    if (basename(at) === "node_modules") return undefined;
    const file = join(at, "package.json");
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, "utf8")) as { type?: string }).type;
      } catch {
        return undefined;
      }
    }
    if (dirname(at) === at) return undefined;
  }
}

/**
 * Where the compiled copy of `path` lives: `node_modules/.cache/flyte-ts/` of the nearest folder
 * above it with a `node_modules` folder, so the copy's package imports resolve as the module's
 * would; named by the module's path and the engine it is pinned to.
 */
function compiledPath(path: string, pins: Readonly<Record<string, string>>): string | undefined {
  for (let at = dirname(path); ; at = dirname(at)) {
    const modules = join(at, "node_modules");
    if (basename(at) !== "node_modules" && isFolder(modules)) {
      const id = sha256Hex(`${compiledForm}\0${path}\0${JSON.stringify(pins)}`).slice(0, 16);
      const name = basename(path).replace(/\.[cm]?ts$/, "");
      return join(modules, ".cache", "flyte-ts", `${name}-${id}.mjs`);
    }
    if (dirname(at) === at) return undefined;
  }
}

/** The key a current copy of `path` carries: its text and its tsconfig.json's. */
function currentKey(path: string): string {
  const tsconfig = nearestTsconfig(dirname(path));
  return sha256Hex(
    `${readFileSync(path, "utf8")}\0${tsconfig === undefined ? "" : readFileSync(tsconfig, "utf8")}`,
  );
}

function nearestTsconfig(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const file = join(at, "tsconfig.json");
    if (existsSync(file)) return file;
    if (dirname(at) === at) return undefined;
  }
}

function readHeader(target: string): Header | undefined {
  try {
    const text = readFileSync(target, "utf8");
    const at = text.lastIndexOf(headerMark);
    return at < 0 ? undefined : (JSON.parse(text.slice(at + headerMark.length)) as Header);
  } catch {
    return undefined;
  }
}

/** Writes a copy whole or not at all (other processes and workers may be reading it). */
function writeCopy(target: string, text: string): boolean {
  try {
    mkdirSync(dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}-${threadId}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, target);
    return true;
  } catch {
    return false;
  }
}

/** What a module imports, as far as compiling it and its imports is concerned. */
interface Imports {
  deps: string[];
  vitest: boolean;
  jsImportsTs: boolean;
}

/** Compiles one module; its imports become URLs (see {@link importTarget}). */
async function compile(
  esbuild: Esbuild,
  path: string,
  target: string,
  pins: Readonly<Record<string, string>>,
): Promise<{ code: string; imports: Imports } | undefined> {
  const imports: Imports = { deps: [], vitest: false, jsImportsTs: false };
  const source = readFileSync(path, "utf8");
  const url = pathToFileURL(path).href;
  const usesMeta = source.includes("import.meta");
  try {
    const result = await esbuild.build({
      entryPoints: [path],
      outfile: target,
      absWorkingDir: dirname(path),
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      // tsx's settings: today's Node, function names kept (task names come from them).
      target: `node${process.versions.node}`,
      keepNames: true,
      sourcemap: "inline",
      sourcesContent: false,
      logLevel: "silent",
      plugins: [
        {
          name: "flyte-ts-imports",
          setup: (build: EsbuildPluginBuild) =>
            build.onResolve({ filter: /.*/ }, (args) =>
              importTarget(build, args, pins, imports, (dep) => compiledPath(dep, pins)),
            ),
        },
      ],
      // The module runs from the cache folder, but `import.meta` is still its own.
      ...(usesMeta
        ? {
            define: { "import.meta": "__flyteTsImportMeta" },
            banner: { js: importMetaOf(url) },
          }
        : {}),
    });
    const code = result.outputFiles?.[0]?.text;
    if (code === undefined || imports.deps.some((dep) => compiledPath(dep, pins) === undefined)) {
      return undefined;
    }
    return { code, imports };
  } catch {
    return undefined;
  }
}

/** Marks the resolutions this plugin asks esbuild for itself. */
const innerResolve = Symbol("flyte-ts inner resolve");

/**
 * Where one import of a compiled module points: a pinned engine module; a TypeScript module's
 * compiled copy; a package import left to Node (the copy sits where the module's packages
 * resolve alike); any other file by its URL. Every import stays external: each module is
 * compiled alone.
 */
async function importTarget(
  build: EsbuildPluginBuild,
  args: EsbuildResolveArgs,
  pins: Readonly<Record<string, string>>,
  imports: Imports,
  copyOf: (path: string) => string | undefined,
): Promise<{ path: string; external: true } | undefined> {
  if (args.kind === "entry-point" || args.pluginData === innerResolve) return undefined;
  const specifier = args.path;
  const pinned = pins[specifier];
  if (pinned !== undefined) return { path: pinned, external: true };
  if (specifier === "vitest" || specifier.startsWith("vitest/")) imports.vitest = true;
  const isUrl = /^[a-z][a-z\d+.-]*:/i.test(specifier) && !specifier.startsWith("file:");
  if (isBuiltin(specifier) || isUrl) return { path: specifier, external: true };
  const resolved = await build.resolve(specifier, {
    kind: args.kind,
    resolveDir: args.resolveDir,
    importer: args.importer,
    pluginData: innerResolve,
  });
  // Left as written: Node reports what esbuild could not find, as it would without a copy.
  if (resolved.errors.length > 0 || resolved.external || resolved.path === "") {
    return { path: specifier, external: true };
  }
  const file = resolved.path;
  if (/\.[cm]?tsx?$/.test(file)) {
    imports.deps.push(file);
    const copy = copyOf(file);
    return { path: copy === undefined ? specifier : pathToFileURL(copy).href, external: true };
  }
  const inPackages = file.split(/[\\/]/).includes("node_modules");
  const bare = !/^(\.{1,2}\/|\/|file:|#)/.test(specifier);
  if (bare && inPackages) return { path: specifier, external: true };
  if (
    !inPackages &&
    /\.[cm]?jsx?$/.test(file) &&
    importsTypeScript.test(readFileSync(file, "utf8"))
  ) {
    imports.jsImportsTs = true;
  }
  return { path: pathToFileURL(file).href, external: true };
}

/** The compiled module's `import.meta`: its source's URL, file and folder. */
function importMetaOf(url: string): string {
  const path = fileURLToPath(url);
  const own = JSON.stringify(url);
  return (
    `const __flyteTsImportMeta = { ...import.meta, url: ${own}, ` +
    `filename: ${JSON.stringify(path)}, dirname: ${JSON.stringify(dirname(path))}, ` +
    `resolve: (specifier, parent) => parent === undefined && /^\\.{1,2}\\//.test(specifier) ` +
    `? new URL(specifier, ${own}).href : import.meta.resolve(specifier, parent) };`
  );
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
