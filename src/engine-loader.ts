/**
 * Loads flyte-ts's engine with V8's code cache. The build bundles the engine as a classic script
 * (dist/engine.cjs; dist/worker-engine.cjs for workers, without a run's controller): Node 20
 * keeps no compiled code for ES modules, but a script compiled with `vm.Script` can start from
 * a code cache (`cachedData`) and make one (`createCachedData()`), which holds every function
 * compiled so far. Made once the engine has done its first piece of work (a worker's first
 * attempt, a program's first run), the cache spares each later thread and process about half of
 * the engine's load: compiling its source, then each function it calls on the way.
 *
 * The cache is a file in `node_modules/.cache/flyte-ts/`, named by the engine's build hash (the
 * script's first line), Node's version, the platform and Node's flags, since V8 itself only checks
 * the source's length. A cache V8 rejects, or none, is made again; a folder that cannot be written
 * only means no cache. `FLYTE_TS_COMPILE_CACHE=0` turns it off; `FLYTE_TS_COMPILE_CACHE=<folder>`
 * puts it elsewhere.
 *
 * The engine runs in this thread's main context, as a module would; one instance per engine file
 * and thread, kept in a global slot, so that every entry point (the API, the CLI,
 * `flyte-ts/testing`, the worker program) shares it. A script has no `import()` of its own: the
 * engine imports task modules and packages through the one this module gives it.
 * @module
 */
import {
  accessSync,
  constants,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import { threadId } from "node:worker_threads";

/** The engines the build writes. */
export type EngineName = "engine" | "worker-engine";

/** A loaded engine's code cache. */
export interface EngineCache {
  /** The cache file, or `undefined` when the cache is off or has no folder. */
  readonly file: string | undefined;
  /** Whether the engine started from the cache file. */
  readonly used: boolean;
  /** Makes the cache file from what is compiled now, unless it was used or made already. */
  save(): void;
}

type Exports = Record<string, unknown>;

/** An engine loaded in this thread, with its cache. */
interface Loaded {
  readonly exports: Exports;
  readonly cache: EngineCache;
}

/** This thread's engines, by their file's URL: each copy of flyte-ts in a process has its own. */
const slots = globalThis as { [key: symbol]: Loaded | undefined };
const slotOf = (url: URL) => Symbol.for(`flyte-ts.engine.v1:${url.href}`);
const engineFile = (name: EngineName) => new URL(`./${name}.cjs`, import.meta.url);

/** Loads the engine `name` in this thread (once) and returns its exports. */
export function loadEngine(name: EngineName): Exports {
  const url = engineFile(name);
  const key = slotOf(url);
  const loaded = slots[key];
  if (loaded !== undefined) return loaded.exports;
  const path = fileURLToPath(url);
  const source = readFileSync(path, "utf8");
  const where = cacheFile(name, source, path);
  const file = where === undefined ? undefined : join(where.folder, where.name);
  const cached = file === undefined ? undefined : readIfOwn(file);
  // The wrapper opens on the script's first line (a comment), so line numbers stay the file's.
  const script = new Script(
    `(function (exports, require, module, __flyteEngineUrl, __flyteImport, __flyteEngineCache) {${source}\n})`,
    {
      filename: path,
      ...(cached === undefined ? {} : { cachedData: cached }),
    },
  );
  const used = cached !== undefined && script.cachedDataRejected === false;
  let saved = used || file === undefined;
  const cache: EngineCache = {
    file,
    used,
    save() {
      if (saved || where === undefined || file === undefined) return;
      saved = true;
      // Made only where it can be written (making it takes a few milliseconds).
      if (!writableFolder(where.folder)) return;
      writeAtomically(file, script.createCachedData());
      removeOtherBuilds(where);
    },
  };
  const module = { exports: {} as Exports };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const importModule = (specifier: string) => import(specifier);
  run(module.exports, createRequire(url), module, url.href, importModule, cache);
  slots[key] = { exports: module.exports, cache };
  return module.exports;
}

/** The code cache of engine `name` in this thread, once it is loaded (for tests and diagnostics). */
export function engineCache(name: EngineName): EngineCache | undefined {
  return slots[slotOf(engineFile(name))]?.cache;
}

/** Where an engine's cache lives: `<folder>/<name>-<build>-<Node, platform, flags>.v8`. */
interface CacheFile {
  readonly folder: string;
  readonly name: string;
  /** `<name>-`: what every build's cache of this engine starts with. */
  readonly prefix: string;
  /** What every build's cache for this Node, platform and flags ends with. */
  readonly suffix: string;
}

/** The cache file of engine `name` built as `source`, or `undefined` when there is none. */
function cacheFile(name: EngineName, source: string, path: string): CacheFile | undefined {
  const setting = process.env.FLYTE_TS_COMPILE_CACHE;
  if (setting === "0" || setting === "false" || setting === "off") return undefined;
  const folder = setting || defaultFolder(dirname(path));
  if (folder === undefined) return undefined;
  const build = /^\/\/ flyte-ts \S+ ([0-9a-f]+)/.exec(source)?.[1];
  if (build === undefined) return undefined;
  const flags = fnv1a(`${process.execArgv.join(" ")}\0${process.env.NODE_OPTIONS ?? ""}`);
  const prefix = `${name}-`;
  const suffix = `-${process.version}-${process.platform}-${process.arch}-${flags}.v8`;
  return { folder, name: `${prefix}${build}${suffix}`, prefix, suffix };
}

/**
 * `node_modules/.cache/flyte-ts` of the `node_modules` folder the package is installed in, else
 * of the package's own `node_modules` (a checkout of flyte-ts), else none.
 */
function defaultFolder(dist: string): string | undefined {
  for (let at = dist; dirname(at) !== at; at = dirname(at)) {
    if (basename(at) === "node_modules") return join(at, ".cache", "flyte-ts");
  }
  const own = join(dirname(dist), "node_modules");
  return isFolder(own) ? join(own, ".cache", "flyte-ts") : undefined;
}

/**
 * The file's bytes, when it exists and belongs to this user or to root (another user's could run
 * as our code; root's is as trusted as the installed package it sits beside).
 */
function readIfOwn(file: string): Buffer | undefined {
  try {
    const stat = statSync(file);
    if (process.getuid !== undefined && stat.uid !== process.getuid() && stat.uid !== 0) {
      return undefined;
    }
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `folder` exists (made if need be) and this process may write in it. */
function writableFolder(folder: string): boolean {
  try {
    mkdirSync(folder, { recursive: true });
    accessSync(folder, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the caches of this engine's other builds for the same Node and flags: each build leaves
 * one, and a checkout rebuilds often.
 */
function removeOtherBuilds(cache: CacheFile): void {
  try {
    for (const other of readdirSync(cache.folder)) {
      const build = other.slice(cache.prefix.length, -cache.suffix.length);
      if (
        other !== cache.name &&
        other === `${cache.prefix}${build}${cache.suffix}` &&
        /^[0-9a-f]{16}$/.test(build)
      ) {
        rmSync(join(cache.folder, other), { force: true });
      }
    }
  } catch {
    // Left for the next build's cache to remove.
  }
}

/** Writes `bytes` to `file` through a file of its own, so a reader never sees half of it. */
function writeAtomically(file: string, bytes: Buffer): void {
  const partial = `${file}.${process.pid}-${threadId}.partial`;
  try {
    writeFileSync(partial, bytes);
    renameSync(partial, file);
  } catch {
    // A full disk means no cache, not a failure.
    try {
      rmSync(partial, { force: true });
    } catch {}
  }
}

/** A short hash of `text` (FNV-1a, 32 bits, hex). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
