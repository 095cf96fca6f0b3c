/**
 * The code bundle of an offloaded run: a gzipped tarball of the sources its tasks need, named by
 * its content hash (which is also the run's default `version`). `copyStyle` picks the files:
 * `"loaded_modules"` the tasks' modules and every relative module they import (followed
 * statically, transitively), `"all"` every file under the root that `.gitignore` does not leave
 * out, `"none"` no bundle at all. A bundle never carries secrets or stores (`bundle-filter.ts`):
 * the flyte folder in use (wherever `FLYTE_TS_HOME` points), `node_modules`, `.git`, `.flyte`,
 * `secrets.env`, and `.env` / `.env.*` files unless named in `include`.
 * `interactive` replaces them with each task module bundled into one self-contained ES module.
 * @module
 */
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { DeploymentError } from "../errors.js";
import { sha256Hex } from "../internal/hash.js";
import { importModule } from "../internal/import-module.js";
import { BundleFilter, relativePosix } from "./bundle-filter.js";
import { bundledPath, bundleModules } from "./interactive-bundle.js";

/** How a run's code is bundled for offload. */
export type CopyStyle = "loaded_modules" | "all" | "none";

/** A written bundle. */
export interface CodeBundle {
  /** The tarball's path, `<dir>/bundle-<hash>.tgz`. */
  readonly file: string;
  /** The first 16 hex digits of the SHA-256 of the tarball's bytes. */
  readonly hash: string;
  /** The bundled files, relative to the root, `/`-separated, sorted. */
  readonly files: readonly string[];
}

/** Options of {@link writeBundle}. */
export interface BundleOptions {
  copyStyle: CopyStyle;
  /** The module URLs of the tasks the bundle must be able to run. */
  modules: readonly string[];
  /** The folder whose files are bundled; paths in the tarball are relative to it. @default the working directory */
  root?: string;
  /** Where the tarball is written. */
  dir: string;
  /**
   * Ship each of `modules` bundled into one ES module (`<path>.mjs`, see `bundledPath`) instead
   * of the sources, whatever `copyStyle` says (`withRunContext({ interactiveMode })`).
   * @default false
   */
  interactive?: boolean;
  /**
   * The flyte folder in use (cache, runs, `secrets.env`), never bundled.
   * @default `$FLYTE_TS_HOME`, else `./.flyte`
   */
  home?: string;
  /**
   * Files to bundle although their names mark them as secrets (`.env.production`), relative to
   * the root with `/`. @default none
   */
  include?: readonly string[];
}

const projectFiles = ["package.json", "tsconfig.json"];

/**
 * Writes the bundle for `copyStyle` into `dir` and returns it, or `undefined` for `"none"`.
 * The same files give the same bytes and so the same hash (entries sorted, times zeroed).
 * @throws DeploymentError when a task's module is not under the root
 * @example
 * ```ts
 * const bundle = await writeBundle({ copyStyle: "loaded_modules", modules: [task.moduleUrl!], dir: "out" });
 * ```
 */
export async function writeBundle(options: BundleOptions): Promise<CodeBundle | undefined> {
  if (options.interactive) return writeInteractiveBundle(options);
  if (options.copyStyle === "none") return undefined;
  const root = resolve(options.root ?? process.cwd());
  const filter = new BundleFilter({
    root,
    excludedFolders: [
      resolve(options.home ?? process.env.FLYTE_TS_HOME ?? ".flyte"),
      resolve(options.dir),
    ],
    include: options.include ?? [],
    gitignore: options.copyStyle === "all",
  });
  const files =
    options.copyStyle === "all"
      ? allFiles(root, filter)
      : loadedModuleFiles(root, options.modules).filter((file) => filter.keepsNamedFile(file));
  return writeTarball(options.dir, root, files);
}

/** The bundle of an interactive run: each task module bundled by esbuild, tarred from a staging folder. */
async function writeInteractiveBundle(options: BundleOptions): Promise<CodeBundle> {
  const root = resolve(options.root ?? process.cwd());
  const modules = [...new Set(options.modules.map((url) => modulePathUnder(root, url)))];
  // At a fixed place under the root: the bundles' source maps name the sources relative to it,
  // so the same code gives the same bytes wherever the run's data folder is.
  const staging = join(root, "node_modules", ".cache", "flyte-ts", `interactive-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    await bundleModules(root, modules, staging);
    return await writeTarball(
      options.dir,
      staging,
      modules.map((path) => bundledPath(root, path)).sort(),
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Tars `files` (relative to `cwd`) into `<dir>/bundle-<hash>.tgz`. */
async function writeTarball(
  dir: string,
  cwd: string,
  files: readonly string[],
): Promise<CodeBundle> {
  await mkdir(dir, { recursive: true });
  // Loaded on first use: importing flyte-ts should not pay for the tar writer.
  const { create } = await importModule<typeof import("tar")>("tar");
  const temporary = join(dir, `bundle-${process.pid}.tgz.tmp`);
  await create(
    {
      gzip: true,
      portable: true,
      mtime: new Date(0),
      cwd,
      file: temporary,
      noDirRecurse: true,
    },
    [...files],
  );
  const hash = sha256Hex(readFileSync(temporary)).slice(0, 16);
  const file = join(dir, `bundle-${hash}.tgz`);
  renameSync(temporary, file);
  return { file, hash, files };
}

/** Unpacks a bundle into `dest` (created if missing). */
export async function extractBundle(file: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const { extract } = await importModule<typeof import("tar")>("tar");
  await extract({ file, cwd: dest });
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

function allFiles(root: string, filter: BundleFilter): string[] {
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const inside = relativePosix(root, path);
      if (entry.isDirectory()) {
        if (filter.keepsFolder(inside)) walk(path);
      } else if (entry.isFile() && filter.keepsFile(inside)) files.push(inside);
    }
  };
  walk(root);
  return files.sort();
}

const importPattern =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bexport\s+\*\s+from\s*)["']([^"'\n]+)["']/g;
const extensions = [".ts", ".mts", ".tsx", ".js", ".mjs", ".cts", ".cjs", ".json"];

/** The file a relative specifier names, trying TypeScript's extension substitutions. */
function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const candidates = [base];
  const swapped = base.replace(/\.(m|c)?js$/, (_, m: string | undefined) => `.${m ?? ""}ts`);
  if (swapped !== base) candidates.push(swapped, swapped.replace(/\.ts$/, ".tsx"));
  for (const ext of extensions) candidates.push(`${base}${ext}`, join(base, `index${ext}`));
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** The path of the module at `url`, which must be under `root`. */
function modulePathUnder(root: string, url: string): string {
  const path = url.startsWith("file:") ? fileURLToPath(url) : resolve(url);
  const inside = relative(root, path);
  if (inside.startsWith("..") || resolve(root, inside) !== path) {
    throw new DeploymentError(
      `The task module ${path} is outside the bundle's root ${root}. Run from the project's folder, or use copyStyle "none" with an image that contains the code.`,
    );
  }
  return path;
}

function loadedModuleFiles(root: string, modules: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue: string[] = [];
  for (const url of modules) queue.push(modulePathUnder(root, url));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.[cm]?[jt]sx?$/.test(file)) continue;
    for (const match of readFileSync(file, "utf8").matchAll(importPattern)) {
      const specifier = match[1] ?? "";
      if (!specifier.startsWith("./") && !specifier.startsWith("../")) continue;
      const found = resolveRelative(file, specifier);
      const inside = found === undefined ? ".." : relative(root, found);
      if (found !== undefined && !inside.startsWith("..") && !inside.includes("node_modules")) {
        queue.push(found);
      }
    }
  }
  for (const name of projectFiles) {
    const path = join(root, name);
    if (existsSync(path)) seen.add(path);
  }
  return [...seen].map((path) => toPosix(relative(root, path))).sort();
}
