/**
 * Container images as immutable values built from layers: {@link Image}. Building an Image never
 * touches the filesystem (files may not exist yet where it is defined); {@link Image.validate}
 * checks them before a build. The layer shapes live in `image-layers.ts`.
 * @module
 */
import { sha256Hex } from "../internal/hash.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";
import {
  checkLayerFiles,
  checkPath,
  commandsLayer,
  envVarsLayer,
  type ImageLayer,
  layerIdentity,
  nonEmpty,
  type PipOptions,
  PLATFORMS,
  type Platform,
  packageArgs,
  packageJsonLayer,
  pipSettings,
  resolveUvScript,
  uvProjectLayer,
} from "./image-layers.js";

interface ImageState {
  readonly baseImage: string | undefined;
  readonly dockerfile: string | undefined;
  readonly registry: string | undefined;
  readonly name: string | undefined;
  readonly platform: readonly Platform[];
  readonly pythonVersion: string | undefined;
  readonly tag: string | undefined;
  readonly identifierOverride: string | undefined;
  readonly layers: readonly ImageLayer[];
}

const emptyState: ImageState = {
  baseImage: undefined,
  dockerfile: undefined,
  registry: undefined,
  name: undefined,
  platform: ["linux/amd64"],
  pythonVersion: undefined,
  tag: undefined,
  identifierOverride: undefined,
  layers: [],
};

const constructing = Symbol("Image");
const repositoryName =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const registryName = /^[A-Za-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)*$/;
const tagName = /^\w[\w.-]{0,127}$/;

/** Options of {@link Image.auto}. */
export interface AutoImageOptions {
  /** Node.js major version of the base image. @default the running Node's major */
  nodeVersion?: number | string;
  /** Registry to publish under; with a registry or name, the image gets a content-hash tag. */
  registry?: string;
  /** Repository name. @default "flyte-ts" */
  name?: string;
  /** @default ["linux/amd64", "linux/arm64"] */
  platform?: readonly Platform[];
  /** The project's package.json. @default "package.json" */
  packageJson?: string;
  /** The project's lockfile. @default "package-lock.json" beside `packageJson` */
  lockfile?: string;
}

/** Options of {@link Image.fromDockerfile}. */
export interface DockerfileImageOptions {
  registry: string;
  name: string;
  /** A fixed tag. @default the content hash */
  tag?: string;
  /** @default ["linux/amd64"] */
  platform?: readonly Platform[];
}

/** Options of {@link Image.fromUvDebian}. */
export interface UvDebianOptions {
  registry: string;
  name: string;
  /** A fixed tag. @default the content hash */
  tag?: string;
  /** Python version as `"3.12"` or `[3, 12]`. @default "3.12" */
  pythonVersion?: string | readonly [number, number];
  /** @default ["linux/amd64", "linux/arm64"] */
  platform?: readonly Platform[];
}

/** Options of {@link Image.fromUvScript}. */
export interface UvScriptOptions extends PipOptions {
  name: string;
  registry?: string;
  /** Python version as `"3.12"` or `[3, 12]`. @default "3.12" */
  pythonVersion?: string | readonly [number, number];
  /** @default ["linux/amd64", "linux/arm64"] */
  platform?: readonly Platform[];
}

/** Options of {@link Image.clone}. */
export interface ImageCloneOptions {
  registry?: string;
  name?: string;
  /** A fixed tag. @default the content hash */
  tag?: string;
  /** One more layer on top. */
  addLayer?: ImageLayer;
}

function checkNames(problems: Problems, options: Record<string, unknown>): void {
  const { registry, name, tag } = options;
  if (registry !== undefined && (typeof registry !== "string" || !registryName.test(registry))) {
    problems.add(
      "registry",
      `Expected \`registry\` to be a registry host and path such as "ghcr.io/my-org", got ${describe(registry)}.`,
    );
  }
  if (name !== undefined && (typeof name !== "string" || !repositoryName.test(name))) {
    problems.add(
      "name",
      `Expected \`name\` to be a repository name (lowercase letters, digits, '.', '_', '-', '/') such as "my-image", got ${describe(name)}.`,
    );
  }
  if (tag !== undefined && (typeof tag !== "string" || !tagName.test(tag))) {
    problems.add(
      "tag",
      `Expected \`tag\` to be an image tag (up to 128 letters, digits, '_', '.', '-'), got ${describe(tag)}.`,
    );
  }
}

function checkPlatform(problems: Problems, platform: unknown): readonly Platform[] | undefined {
  if (platform === undefined) return undefined;
  const known = PLATFORMS as readonly unknown[];
  if (Array.isArray(platform) && platform.length > 0 && platform.every((p) => known.includes(p))) {
    return Object.freeze([...new Set(platform as Platform[])]);
  }
  problems.add(
    "platform",
    `Expected \`platform\` to be a non-empty list of ${PLATFORMS.map((p) => JSON.stringify(p)).join(", ")}, got ${describe(platform)}.`,
  );
  return undefined;
}

/** The base of the uv-based images: Debian with Python, build tools and certificates. */
function uvState(problems: Problems, options: Record<string, unknown>): ImageState {
  checkNames(problems, options);
  const { pythonVersion: given } = options;
  const text = Array.isArray(given) && given.length === 2 ? given.join(".") : (given ?? "3.12");
  if (typeof text !== "string" || !/^3\.\d+$/.test(text)) {
    problems.add(
      "pythonVersion",
      `Expected \`pythonVersion\` to be "3.X" or [3, X], got ${describe(given)}.`,
    );
  }
  const pythonVersion = String(text);
  return {
    ...emptyState,
    baseImage: `python:${pythonVersion}-slim-bookworm`,
    registry: options.registry as string | undefined,
    name: options.name as string | undefined,
    tag: options.tag as string | undefined,
    pythonVersion,
    platform: checkPlatform(problems, options.platform) ?? PLATFORMS,
    layers: [{ kind: "aptPackages", packages: ["build-essential", "ca-certificates"] }],
  };
}

/**
 * A container image: a base (an image URI, a Dockerfile, or flyte-ts's default) plus an ordered
 * list of layers. Immutable: every `with*` method returns a new Image. Construct with the static
 * methods; `new Image()` is not allowed.
 *
 * @example
 * ```ts
 * const image = flyte.Image.auto().withAptPackages("ffmpeg").withNpmPackages(["sharp"]);
 * image.uri; // "flyte-ts:<identifier>"
 * ```
 */
export class Image {
  /** The image this one starts from, or `undefined` for Dockerfile images. */
  readonly baseImage: string | undefined;
  /** The Dockerfile this image is built from, or `undefined`. */
  readonly dockerfile: string | undefined;
  /** The registry it is published to, or `undefined` (local only). */
  readonly registry: string | undefined;
  /** The repository name, or `undefined` for a prebuilt image used as it is. */
  readonly name: string | undefined;
  /** The platforms it is built for. */
  readonly platform: readonly Platform[];
  /** The Python version of uv-based images (`fromUvDebian`, `fromUvScript`), else `undefined`. */
  readonly pythonVersion: string | undefined;
  /** The layers, in build order. */
  readonly layers: readonly ImageLayer[];
  /**
   * 32 hex digits of SHA-256 over the base fields and each layer's identity (copy layers by their
   * destination only, so it is computable where the files do not exist); `"auto"` for the default image.
   */
  readonly identifier: string;
  /** The tag given, else {@link Image.identifier}. */
  readonly tag: string;
  /** `registry/name:tag`, `name:tag`, or the base image for an unnamed prebuilt image. */
  readonly uri: string;
  readonly #state: ImageState;

  private constructor(key: symbol, state: ImageState) {
    if (key !== constructing) {
      throw new TypeError(
        "Direct construction of Image is not allowed. Start from Image.auto(), Image.fromPrebuilt(), Image.fromDockerfile(), Image.fromUvDebian() or Image.fromUvScript().",
      );
    }
    this.#state = state;
    this.baseImage = state.baseImage;
    this.dockerfile = state.dockerfile;
    this.registry = state.registry;
    this.name = state.name;
    this.platform = Object.freeze([...state.platform]);
    this.pythonVersion = state.pythonVersion;
    this.layers = Object.freeze([...state.layers]);
    const { identifierOverride, tag, layers, ...base } = state;
    const identity = JSON.stringify([base, layers.map(layerIdentity)]);
    this.identifier = identifierOverride ?? sha256Hex(identity).slice(0, 32);
    this.tag = tag ?? this.identifier;
    const repository =
      state.registry === undefined ? state.name : `${state.registry}/${state.name}`;
    this.uri = state.name === undefined ? String(state.baseImage) : `${repository}:${this.tag}`;
    Object.freeze(this);
  }

  /**
   * flyte-ts's default image: `node:<major>-bookworm-slim` plus the project's package.json and
   * lockfile installed (which brings flyte-ts itself). Identifier `"auto"` and uri
   * `flyte-ts:node<major>` unless an option other than `nodeVersion` is given; then a content-hash tag.
   * @throws InvalidConfigError listing every invalid option
   * @example
   * ```ts
   * Image.auto().uri; // "flyte-ts:node20"
   * ```
   */
  static auto(options: AutoImageOptions = {}): Image {
    const problems = new Problems("Image.auto");
    const known = ["nodeVersion", "registry", "name", "platform", "packageJson", "lockfile"];
    checkKeys(problems, options, known);
    const { registry, name, packageJson = "package.json", lockfile } = options;
    const nodeVersion = options.nodeVersion ?? process.versions.node.split(".")[0];
    if (!/^\d+$/.test(String(nodeVersion))) {
      problems.add(
        "nodeVersion",
        `Expected \`nodeVersion\` to be a Node.js major version such as 20, got ${describe(nodeVersion)}.`,
      );
    }
    checkNames(problems, { registry, name });
    const platform = checkPlatform(problems, options.platform) ?? PLATFORMS;
    const layer = packageJsonLayer(problems, packageJson, lockfile);
    problems.throwIfAny();
    // Only the untouched default is "auto"; any other option makes it a distinct image.
    const { nodeVersion: _, ...rest } = options;
    const isDefault = Object.values(rest).every((value) => value === undefined);
    return new Image(constructing, {
      ...emptyState,
      baseImage: `node:${nodeVersion}-bookworm-slim`,
      registry,
      name: name ?? "flyte-ts",
      platform,
      tag: isDefault ? `node${nodeVersion}` : undefined,
      identifierOverride: isDefault ? "auto" : undefined,
      layers: [layer],
    });
  }

  /**
   * An image that already exists, used as it is. To add layers, first `clone({ registry, name })`.
   * @example
   * ```ts
   * Image.fromPrebuilt("ghcr.io/my-org/trainer:v3").uri; // "ghcr.io/my-org/trainer:v3"
   * ```
   */
  static fromPrebuilt(uri: string): Image {
    const problems = new Problems("Image.fromPrebuilt");
    if (typeof uri !== "string" || uri.trim() === "" || /\s/.test(uri)) {
      problems.add(
        "uri",
        `Expected \`uri\` to be an image reference such as "ghcr.io/org/image:tag", got ${describe(uri)}.`,
      );
    }
    problems.throwIfAny();
    return new Image(constructing, { ...emptyState, baseImage: uri });
  }

  /**
   * An image built from a Dockerfile; its folder is the build context. No layers can be added.
   * @example
   * ```ts
   * Image.fromDockerfile("docker/Dockerfile", { registry: "ghcr.io/my-org", name: "trainer" });
   * ```
   */
  static fromDockerfile(file: string, options: DockerfileImageOptions): Image {
    const problems = new Problems("Image.fromDockerfile");
    nonEmpty(problems, "file", file, "the path of a Dockerfile");
    checkKeys(problems, options, ["registry", "name", "platform", "tag"]);
    nonEmpty(problems, "registry", options?.registry, 'a registry such as "ghcr.io/my-org"');
    nonEmpty(problems, "name", options?.name, "a repository name");
    checkNames(problems, { ...options });
    const platform = checkPlatform(problems, options?.platform) ?? emptyState.platform;
    problems.throwIfAny();
    const { registry, name, tag } = options;
    return new Image(constructing, {
      ...emptyState,
      dockerfile: file,
      registry,
      name,
      tag,
      platform,
    });
  }

  /**
   * A Debian image with Python and uv (a virtualenv at `/opt/venv`), for Python layers.
   * @example
   * ```ts
   * Image.fromUvDebian({ registry: "ghcr.io/my-org", name: "py" }).withPipPackages("numpy");
   * ```
   */
  static fromUvDebian(options: UvDebianOptions): Image {
    const problems = new Problems("Image.fromUvDebian");
    checkKeys(problems, options, ["registry", "name", "tag", "pythonVersion", "platform"]);
    nonEmpty(problems, "registry", options?.registry, 'a registry such as "ghcr.io/my-org"');
    nonEmpty(problems, "name", options?.name, "a repository name");
    const state = uvState(problems, { ...options });
    problems.throwIfAny();
    return new Image(constructing, state);
  }

  /**
   * A uv-based image with the dependencies of a PEP 723 script. The script is read when the
   * layers are resolved ({@link Image.resolvedLayers}, {@link Image.validate}), not here.
   * @example
   * ```ts
   * Image.fromUvScript("scripts/fetch.py", { name: "fetcher", registry: "ghcr.io/my-org" });
   * ```
   */
  static fromUvScript(script: string, options: UvScriptOptions): Image {
    const problems = new Problems("Image.fromUvScript");
    if (
      nonEmpty(problems, "script", script, "the path of a .py script") &&
      !script.endsWith(".py")
    ) {
      problems.add("script", `Expected \`script\` to be a .py file, got ${describe(script)}.`);
    }
    const pipKeys = ["indexUrl", "extraIndexUrls", "pre", "extraArgs"];
    checkKeys(problems, options, ["name", "registry", "pythonVersion", "platform", ...pipKeys]);
    nonEmpty(problems, "name", options?.name, "a repository name");
    const { indexUrl, extraIndexUrls, pre, extraArgs, ...base } = options ?? {};
    const state = uvState(problems, base);
    const pip = pipSettings(problems, { indexUrl, extraIndexUrls, pre, extraArgs });
    problems.throwIfAny();
    const layers: ImageLayer[] = [
      ...state.layers,
      { kind: "aptPackages", packages: ["ca-certificates"] },
      { kind: "uvScript", script, ...pip },
    ];
    return new Image(constructing, { ...state, layers });
  }

  /**
   * A copy under another registry or name, optionally with one more layer. The copy is tagged by
   * its content hash unless `tag` is given (a tag never carries over to a changed image).
   * @throws InvalidConfigError when a layer is added to a Dockerfile image or to an unnamed one
   * @example
   * ```ts
   * Image.fromPrebuilt("python:3.12").clone({ registry: "ghcr.io/my-org", name: "py" }).withPipPackages("numpy");
   * ```
   */
  clone(options: ImageCloneOptions = {}): Image {
    const problems = new Problems(`Image "${this.uri}"`);
    checkKeys(problems, options, ["registry", "name", "tag", "addLayer"]);
    checkNames(problems, { ...options });
    if (options.addLayer !== undefined && this.dockerfile !== undefined) {
      problems.add(
        "layers",
        "Cannot add layers to an image built from a Dockerfile. Add the step to the Dockerfile instead.",
      );
    } else if (options.addLayer !== undefined && (options.name ?? this.name) === undefined) {
      problems.add(
        "layers",
        `Cannot add a layer to the prebuilt image "${this.uri}", which has no name to publish the result under. First clone({ registry, name }).`,
      );
    }
    problems.throwIfAny();
    return new Image(constructing, {
      ...this.#state,
      registry: options.registry ?? this.registry,
      name: options.name ?? this.name,
      tag: options.tag,
      identifierOverride: undefined,
      layers: options.addLayer === undefined ? this.layers : [...this.layers, options.addLayer],
    });
  }

  /**
   * Whether layers can no longer be added (the seed's `is_final`; upstream's later `extendable`
   * is its negation): true for an image built from a Dockerfile, and for a prebuilt image used as
   * it is (`fromPrebuilt(uri)`, which has no name to publish a changed image under).
   */
  get isFinal(): boolean {
    return this.dockerfile !== undefined || this.name === undefined;
  }

  #with(method: string, build: (problems: Problems) => ImageLayer): Image {
    const problems = new Problems(`Image.${method}`);
    if (this.dockerfile === undefined && this.name === undefined) {
      const repository = /^(?:.*\/)?([^/:@]+)(?:[:@].*)?$/.exec(this.uri)?.[1] ?? "image";
      problems.add(
        "",
        `The prebuilt image "${this.uri}" is final: it is used as it is, and a changed image needs a name of its own to be published under. ` +
          `Name it first: Image.fromPrebuilt(${JSON.stringify(this.uri)}).clone({ registry: "<your registry>", name: "${repository}-custom" }).${method}(...)`,
      );
      problems.throwIfAny();
    }
    const layer = build(problems);
    problems.throwIfAny();
    return this.clone({ addLayer: layer });
  }

  /** Adds `apt-get install` of the packages. @example `image.withAptPackages("git", "curl")` */
  withAptPackages(...packages: readonly (string | readonly string[])[]): Image {
    return this.#with("withAptPackages", (p) => ({
      kind: "aptPackages",
      packages: packageArgs(p, packages).packages,
    }));
  }

  /** Adds shell commands, each its own `RUN` step (without `RUN`). @example `image.withCommands(["make"])` */
  withCommands(commands: string | readonly string[]): Image {
    return this.#with("withCommands", (p) => commandsLayer(p, commands));
  }

  /** Adds environment variables. @example `image.withEnvVars({ HF_HOME: "/cache" })` */
  withEnvVars(vars: Record<string, string>): Image {
    return this.#with("withEnvVars", (p) => envVarsLayer(p, vars));
  }

  /** Installs this flyte-ts checkout's local build instead of the published package. @example `image.withLocalV2()` */
  withLocalV2(): Image {
    return this.#with("withLocalV2", () => ({ kind: "localV2" }));
  }

  /**
   * Adds `uv pip install` of the packages.
   * @example
   * ```ts
   * image.withPipPackages("numpy", "pandas");
   * image.withPipPackages(["torch"], { indexUrl: "https://download.pytorch.org/whl/cu121" });
   * ```
   */
  withPipPackages(packages: string | readonly string[], options?: PipOptions): Image;
  withPipPackages(...packages: string[]): Image;
  withPipPackages(...args: readonly unknown[]): Image {
    return this.#with("withPipPackages", (p) => {
      const { packages, options } = packageArgs(p, args);
      return { kind: "pipPackages", packages, ...pipSettings(p, options) };
    });
  }

  /** Adds `uv pip install -r` of a requirements `.txt` file. @example `image.withRequirements("requirements.txt")` */
  withRequirements(file: string, options?: PipOptions): Image {
    return this.#with("withRequirements", (p) => {
      if (nonEmpty(p, "file", file, "the path of a .txt file") && !file.endsWith(".txt")) {
        p.add("file", `Expected \`file\` to be a .txt requirements file, got ${describe(file)}.`);
      }
      return { kind: "requirements", file, ...pipSettings(p, options) };
    });
  }

  /** Copies a local file into the image (by default into the working directory). @example `image.withSourceFile("config.yaml", "/app/")` */
  withSourceFile(src: string, dst = "."): Image {
    return this.#with("withSourceFile", (p) => {
      nonEmpty(p, "src", src, "a file path");
      nonEmpty(p, "dst", dst, "a path in the image");
      return { kind: "sourceFile", src, dst };
    });
  }

  /** Copies a local folder into the image (by default into the working directory). @example `image.withSourceFolder("src", "/app/src")` */
  withSourceFolder(src: string, dst = "."): Image {
    return this.#with("withSourceFolder", (p) => {
      nonEmpty(p, "src", src, "a folder path");
      nonEmpty(p, "dst", dst, "a path in the image");
      return { kind: "sourceFolder", src, dst };
    });
  }

  /** Installs a uv project from its pyproject.toml and the `uv.lock` beside it. @example `image.withUvProject("pyproject.toml")` */
  withUvProject(pyproject: string, options?: PipOptions): Image {
    return this.#with("withUvProject", (p) => uvProjectLayer(p, pyproject, options));
  }

  /** Sets the image's working directory. @example `image.withWorkdir("/app")` */
  withWorkdir(path: string): Image {
    return this.#with("withWorkdir", (p) => {
      nonEmpty(p, "path", path, "a folder path in the image");
      return { kind: "workdir", path };
    });
  }

  /**
   * Adds `npm install` of the packages into the image's project folder.
   * @example
   * ```ts
   * image.withNpmPackages(["sharp", "zod@3"]);
   * ```
   */
  withNpmPackages(packages: string | readonly string[], options?: { registryUrl?: string }): Image;
  withNpmPackages(...packages: string[]): Image;
  withNpmPackages(...args: readonly unknown[]): Image {
    return this.#with("withNpmPackages", (p) => {
      const { packages, options } = packageArgs(p, args);
      const { registryUrl } = (options ?? {}) as { registryUrl?: unknown };
      if (registryUrl !== undefined) nonEmpty(p, "registryUrl", registryUrl, "a URL");
      return { kind: "npmPackages", packages, registryUrl: registryUrl as string | undefined };
    });
  }

  /**
   * Installs a Node project's dependencies from its package.json and lockfile; the lockfile's name
   * picks the package manager (`package-lock.json` → npm, `pnpm-lock.yaml` → pnpm, ...).
   * @param lockfile @default "package-lock.json" beside the package.json
   * @example
   * ```ts
   * image.withPackageJson("services/api/package.json", "services/api/pnpm-lock.yaml");
   * ```
   */
  withPackageJson(packageJsonPath: string, lockfile?: string): Image {
    return this.#with("withPackageJson", (p) => packageJsonLayer(p, packageJsonPath, lockfile));
  }

  /**
   * The layers with each `uvScript` layer replaced by a `pipPackages` layer of the script's
   * dependencies. Reads the scripts, relative to `root`.
   * @throws InvalidConfigError when a script cannot be read or has no PEP 723 block
   */
  resolvedLayers(root: string = process.cwd()): readonly ImageLayer[] {
    const problems = new Problems(`Image "${this.uri}"`);
    const layers = this.layers.map((layer, i) =>
      layer.kind === "uvScript"
        ? (problems.nested(`layers[${i}].script`, () => resolveUvScript(layer, root)) ?? layer)
        : layer,
    );
    problems.throwIfAny();
    return Object.freeze(layers);
  }

  /**
   * Checks the files the image needs, relative to `root`: the Dockerfile, copied files and
   * folders, requirements files, pyproject.toml with its uv.lock, package.json with its lockfile,
   * and uv scripts (which must carry a PEP 723 block).
   * @throws InvalidConfigError listing every missing or wrong file, each with its layer's path
   * @example
   * ```ts
   * Image.auto().withSourceFolder("models").validate(); // throws if ./models is missing
   * ```
   */
  validate(root: string = process.cwd()): void {
    const problems = new Problems(`Image "${this.uri}"`);
    if (this.dockerfile !== undefined) {
      const hint = "Fix the path given to fromDockerfile().";
      checkPath(problems, root, "dockerfile", this.dockerfile, "file", hint);
    }
    this.layers.forEach((layer, i) => {
      checkLayerFiles(problems, root, `layers[${i}]`, layer);
    });
    problems.throwIfAny();
  }

  /** The image's uri. */
  toString(): string {
    return this.uri;
  }
}
