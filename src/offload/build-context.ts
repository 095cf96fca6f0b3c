/**
 * Writes an image's build context: the Dockerfile from {@link planDockerfile} plus every file
 * its `COPY` lines read, so `docker build <folder>` builds it with nothing else at hand.
 * @module
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Image } from "../api/image.js";
import { type DockerfileOptions, planDockerfile } from "./dockerfile.js";

/** What {@link writeBuildContext} wrote. */
export interface BuildContext {
  /** The image's uri (`registry/name:tag`, tag = the Image identifier). */
  readonly uri: string;
  /** The build context folder. */
  readonly dir: string;
  /** The Dockerfile's path. */
  readonly dockerfile: string;
  /** The command that builds and tags the image. */
  readonly buildCommand: string;
}

/** Folder names never copied into a build context from a `withSourceFolder` folder. */
const skipped = new Set(["node_modules", ".git", ".flyte"]);

/** Whether an image has anything to build: a prebuilt image without layers is used as it is. */
export function needsBuild(image: Image): boolean {
  return image.dockerfile !== undefined || image.layers.length > 0;
}

/**
 * Checks the image's files (`Image.validate`) and writes its build context into `dir`, replacing
 * what was there. Folders are copied without `node_modules`, `.git` and `.flyte`.
 * @throws InvalidConfigError listing every missing source file
 * @example
 * ```ts
 * const context = writeBuildContext(Image.auto(), ".flyte/build/default");
 * console.log(context.buildCommand); // docker buildx build --tag flyte-ts:node20 ...
 * ```
 */
export function writeBuildContext(
  image: Image,
  dir: string,
  options: DockerfileOptions = {},
): BuildContext {
  const root = resolve(options.root ?? process.cwd());
  image.validate(root);
  const plan = planDockerfile(image, { ...options, root });
  const out = resolve(dir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const copy of plan.copies) {
    const target = join(out, copy.target);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(copy.source, target, {
      recursive: copy.type === "folder",
      filter: (source) => !skipped.has(basename(source)) || source === copy.source,
    });
  }
  const dockerfile =
    image.dockerfile === undefined
      ? join(out, "Dockerfile")
      : join(out, basename(resolve(root, image.dockerfile)));
  if (image.dockerfile === undefined) writeFileSync(dockerfile, plan.dockerfile);
  const platforms = image.platform.join(",");
  const buildCommand = `docker buildx build --platform ${platforms} --tag ${plan.uri} --file ${dockerfile} ${out}`;
  return { uri: plan.uri, dir: out, dockerfile, buildCommand };
}
