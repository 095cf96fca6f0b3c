/**
 * The layers of an {@link Image}: their data shapes (a discriminated union on `kind`, which the
 * Dockerfile renderer switches over), how each is checked when added, its identity string, and
 * the file checks run by `Image.validate()`.
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { describe, type Problems } from "../internal/problems.js";

/** The platforms an image can be built for. */
export const PLATFORMS = ["linux/amd64", "linux/arm64"] as const;
/** A platform an image can be built for. */
export type Platform = (typeof PLATFORMS)[number];

/** The lockfiles `Image.withPackageJson` understands, with the package manager each implies. */
export const LOCKFILES = {
  "package-lock.json": "npm",
  "npm-shrinkwrap.json": "npm",
  "pnpm-lock.yaml": "pnpm",
  "yarn.lock": "yarn",
  "bun.lock": "bun",
  "bun.lockb": "bun",
} as const;
/** The Node package manager that installs a `packageJson` layer. */
export type PackageManager = (typeof LOCKFILES)[keyof typeof LOCKFILES];

/** Options of the pip-based layers (`withPipPackages`, `withRequirements`, `withUvProject`, `fromUvScript`). */
export interface PipOptions {
  /** The package index to install from instead of PyPI. */
  indexUrl?: string;
  /** More package indexes to search. @default [] */
  extraIndexUrls?: string | readonly string[];
  /** Allow pre-release versions. @default false */
  pre?: boolean;
  /** Extra arguments passed to `uv pip install` as they are. */
  extraArgs?: string;
}

/** Pip options as stored in a layer. */
export interface PipSettings {
  readonly indexUrl: string | undefined;
  readonly extraIndexUrls: readonly string[];
  readonly pre: boolean;
  readonly extraArgs: string | undefined;
}

/**
 * One step of an image, in build order. Paths are as given, relative to the working directory
 * at build time.
 * - `uvScript`: the PEP 723 dependencies of a script; `Image.resolvedLayers()` turns it into `pipPackages`.
 * - `localV2`: installs this flyte-ts checkout's local build instead of the published package.
 * - `packageJson`: installs a Node project from its lockfile with `packageManager`.
 */
export type ImageLayer =
  | { readonly kind: "aptPackages"; readonly packages: readonly string[] }
  | { readonly kind: "commands"; readonly commands: readonly string[] }
  | { readonly kind: "envVars"; readonly vars: Readonly<Record<string, string>> }
  | { readonly kind: "workdir"; readonly path: string }
  | ({ readonly kind: "pipPackages"; readonly packages: readonly string[] } & PipSettings)
  | ({ readonly kind: "requirements"; readonly file: string } & PipSettings)
  | ({
      readonly kind: "uvProject";
      readonly pyproject: string;
      readonly lockfile: string;
    } & PipSettings)
  | ({ readonly kind: "uvScript"; readonly script: string } & PipSettings)
  | { readonly kind: "sourceFile"; readonly src: string; readonly dst: string }
  | { readonly kind: "sourceFolder"; readonly src: string; readonly dst: string }
  | { readonly kind: "localV2" }
  | {
      readonly kind: "npmPackages";
      readonly packages: readonly string[];
      readonly registryUrl: string | undefined;
    }
  | {
      readonly kind: "packageJson";
      readonly packageJson: string;
      readonly lockfile: string;
      readonly packageManager: PackageManager;
    };

/** The `kind` of an {@link ImageLayer}. */
export type ImageLayerKind = ImageLayer["kind"];

const envVarName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Records a problem unless `value` is a non-empty string. */
export function nonEmpty(
  problems: Problems,
  path: string,
  value: unknown,
  what: string,
): value is string {
  if (typeof value === "string" && value.trim() !== "") return true;
  problems.add(path, `Expected \`${path}\` to be ${what}, got ${describe(value)}.`);
  return false;
}

/** Checks and freezes pip options. */
export function pipSettings(problems: Problems, options: unknown): PipSettings {
  const { indexUrl, extraIndexUrls = [], pre = false, extraArgs } = (options ?? {}) as PipOptions;
  if (indexUrl !== undefined) nonEmpty(problems, "indexUrl", indexUrl, "a URL");
  const extras: readonly unknown[] = Array.isArray(extraIndexUrls)
    ? extraIndexUrls
    : [extraIndexUrls];
  extras.forEach((url, i) => {
    nonEmpty(problems, `extraIndexUrls[${i}]`, url, "a URL");
  });
  if (typeof pre !== "boolean") {
    problems.add("pre", `Expected \`pre\` to be a boolean, got ${describe(pre)}.`);
  }
  if (extraArgs !== undefined) nonEmpty(problems, "extraArgs", extraArgs, "a string of arguments");
  return { indexUrl, extraIndexUrls: Object.freeze(extras as string[]), pre, extraArgs };
}

/** Splits `(...packages)` / `(packages, options)` arguments into names and options. */
export function packageArgs(
  problems: Problems,
  args: readonly unknown[],
): { packages: readonly string[]; options: unknown } {
  const last = args.at(-1);
  const hasOptions = typeof last === "object" && last !== null && !Array.isArray(last);
  const names = (hasOptions ? args.slice(0, -1) : args).flat();
  if (names.length === 0) problems.add("packages", "Expected at least one package name, got none.");
  names.forEach((name, i) => {
    if (typeof name !== "string" || name.trim() === "") {
      problems.add(`packages[${i}]`, `Expected a package name, got ${describe(name)}.`);
    }
  });
  return { packages: Object.freeze(names as string[]), options: hasOptions ? last : undefined };
}

/** Builds a `commands` layer; each command must be non-empty and not start with `RUN`. */
export function commandsLayer(problems: Problems, commands: unknown): ImageLayer {
  const list: readonly unknown[] = Array.isArray(commands) ? commands : [commands];
  list.forEach((command, i) => {
    const path = `commands[${i}]`;
    if (nonEmpty(problems, path, command, "a shell command") && /^\s*RUN\s/.test(command)) {
      problems.add(
        path,
        `Drop the \`RUN\` prefix from ${describe(command)}; each command becomes its own RUN step.`,
      );
    }
  });
  return { kind: "commands", commands: Object.freeze([...list] as string[]) };
}

/** Builds an `envVars` layer with its keys sorted, so the identifier does not depend on their order. */
export function envVarsLayer(problems: Problems, vars: unknown): ImageLayer {
  if (typeof vars !== "object" || vars === null || Array.isArray(vars)) {
    problems.add("vars", `Expected \`vars\` to be an object of strings, got ${describe(vars)}.`);
    return { kind: "envVars", vars: {} };
  }
  const entries = Object.entries(vars as Record<string, unknown>);
  for (const [key, value] of entries) {
    if (!envVarName.test(key)) {
      problems.add(
        `vars.${key}`,
        `Invalid environment variable name ${describe(key)}: use letters, digits and '_', not starting with a digit.`,
      );
    }
    if (typeof value !== "string") {
      problems.add(`vars.${key}`, `Expected a string value, got ${describe(value)}.`);
    }
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sorted = Object.fromEntries(entries) as Record<string, string>;
  return { kind: "envVars", vars: Object.freeze(sorted) };
}

/** Builds a `uvProject` layer; the lockfile is the `uv.lock` beside the pyproject. */
export function uvProjectLayer(
  problems: Problems,
  pyproject: unknown,
  options: unknown,
): ImageLayer {
  if (
    nonEmpty(problems, "pyproject", pyproject, "the path of a pyproject.toml") &&
    !pyproject.endsWith(".toml")
  ) {
    problems.add(
      "pyproject",
      `Expected \`pyproject\` to be a pyproject.toml file, got ${describe(pyproject)}.`,
    );
  }
  const path = String(pyproject);
  const lockfile = join(dirname(path), "uv.lock");
  return { kind: "uvProject", pyproject: path, lockfile, ...pipSettings(problems, options) };
}

/** Builds a `packageJson` layer; the lockfile defaults to the package-lock.json beside it. */
export function packageJsonLayer(
  problems: Problems,
  packageJson: unknown,
  lockfile: unknown,
): ImageLayer {
  let packageManager: PackageManager = "npm";
  if (
    nonEmpty(problems, "packageJson", packageJson, "the path of a package.json") &&
    basename(packageJson) !== "package.json"
  ) {
    problems.add(
      "packageJson",
      `Expected \`packageJson\` to be a package.json file, got ${describe(packageJson)}.`,
    );
  }
  const lock = lockfile ?? join(dirname(String(packageJson)), "package-lock.json");
  if (nonEmpty(problems, "lockfile", lock, "the path of a lockfile")) {
    const known = LOCKFILES[basename(lock) as keyof typeof LOCKFILES];
    if (known === undefined) {
      problems.add(
        "lockfile",
        `Expected \`lockfile\` to be one of ${Object.keys(LOCKFILES).join(", ")}, got ${describe(lock)}.`,
      );
    } else packageManager = known;
  }
  return {
    kind: "packageJson",
    packageJson: String(packageJson),
    lockfile: String(lock),
    packageManager,
  };
}

/** The string a layer contributes to the identifier; copies count by destination only, as upstream. */
export function layerIdentity(layer: ImageLayer): string {
  switch (layer.kind) {
    case "sourceFile":
    case "sourceFolder":
      return `${layer.kind}:${layer.dst}`;
    case "localV2":
      return "localV2:/dist";
    default:
      return JSON.stringify(layer);
  }
}

/**
 * Reads the dependencies of a PEP 723 inline script metadata block (`# /// script` ... `# ///`).
 * Only `dependencies` and `requires-python` are read, with a minimal TOML reader.
 * @throws TypeError when the text has no script block
 * @example
 * ```ts
 * parseScriptMetadata('# /// script\n# dependencies = ["httpx"]\n# ///\n').dependencies; // ["httpx"]
 * ```
 */
export function parseScriptMetadata(text: string): {
  dependencies: string[];
  requiresPython: string | undefined;
} {
  const block = /^# \/\/\/ script\s*$([\s\S]*?)^# \/\/\/\s*$/m.exec(text);
  if (!block) {
    throw new TypeError(
      'Expected a PEP 723 "# /// script" block at the top of the script, found none. Add one listing its dependencies.',
    );
  }
  const toml = (block[1] ?? "")
    .split("\n")
    .map((line) => line.replace(/^#\s?/, ""))
    .join("\n");
  const list = /^dependencies\s*=\s*\[([\s\S]*?)\]/m.exec(toml)?.[1] ?? "";
  const dependencies = [...list.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)].map(
    (m) => m[1] ?? m[2] ?? "",
  );
  const requiresPython = /^requires-python\s*=\s*["']([^"']*)["']/m.exec(toml)?.[1];
  return { dependencies, requiresPython };
}

/** Reads a uv script's dependencies into a `pipPackages` layer. @throws TypeError when it cannot */
export function resolveUvScript(
  layer: Extract<ImageLayer, { kind: "uvScript" }>,
  root: string,
): ImageLayer {
  const { kind: _, script, ...pip } = layer;
  const file = resolve(root, script);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new TypeError(`Cannot read ${describe(script)}: ${(error as Error).message}`);
  }
  const { dependencies } = parseScriptMetadata(text);
  return { kind: "pipPackages", packages: Object.freeze(dependencies), ...pip };
}

/** Records a problem unless `file` (relative to `root`) exists and is of `type`. */
export function checkPath(
  problems: Problems,
  root: string,
  path: string,
  file: string,
  type: "file" | "folder",
  hint: string,
): void {
  const stat = statSync(resolve(root, file), { throwIfNoEntry: false });
  if (stat === undefined) problems.add(path, `${describe(file)} does not exist. ${hint}`);
  else if (type === "file" ? !stat.isFile() : !stat.isDirectory()) {
    problems.add(path, `${describe(file)} is not a ${type}. ${hint}`);
  }
}

/** Records every missing or wrong file a layer needs, under `at` (e.g. `layers[2]`). */
export function checkLayerFiles(
  problems: Problems,
  root: string,
  at: string,
  layer: ImageLayer,
): void {
  const check = (field: string, file: string, type: "file" | "folder", hint: string): void =>
    checkPath(problems, root, `${at}.${field}`, file, type, hint);
  switch (layer.kind) {
    case "sourceFile":
      check("src", layer.src, "file", "Create it or fix the path given to withSourceFile().");
      break;
    case "sourceFolder":
      check("src", layer.src, "folder", "Create it or fix the path given to withSourceFolder().");
      break;
    case "requirements":
      check("file", layer.file, "file", "Create it or fix the path given to withRequirements().");
      break;
    case "uvProject":
      check("pyproject", layer.pyproject, "file", "Fix the path given to withUvProject().");
      check("lockfile", layer.lockfile, "file", "Run `uv lock` beside the pyproject.toml.");
      break;
    case "packageJson":
      check("packageJson", layer.packageJson, "file", "Fix the path of package.json.");
      check(
        "lockfile",
        layer.lockfile,
        "file",
        `Run \`${layer.packageManager} install\` to create it.`,
      );
      break;
    case "uvScript":
      check("script", layer.script, "file", "Fix the path given to fromUvScript().");
      if (statSync(resolve(root, layer.script), { throwIfNoEntry: false })?.isFile()) {
        problems.nested(`${at}.script`, () => resolveUvScript(layer, root));
      }
      break;
    default:
      break;
  }
}
