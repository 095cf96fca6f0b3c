/**
 * `flyte-ts build <file> [--env name] [--out dir]`: writes every environment's Dockerfile and
 * build context, in `dependsOn` order, and prints the command that builds each image.
 * @module
 */
import { join, resolve } from "node:path";
import { Image } from "../api/image.js";
import { needsBuild, writeBuildContext } from "../offload/build-context.js";
import { environmentsIn } from "./environments.js";
import { readFlags } from "./flags.js";
import { loadModule } from "./load-module.js";
import { ExitCode, UsageError } from "./usage.js";

/** `flyte-ts build --help`. */
export const buildHelp = `Usage: flyte-ts build <file> [--env name] [--out dir]

Writes the Dockerfile and build context of every environment in <file> (dependencies first)
into <out>/<environment>/, and prints the docker command that builds each image. The image tag
is the Image's identifier, a content hash of its layers.

Options:
  --env <name>   only this environment (and the environments it dependsOn)
  --out <dir>    where the build contexts go   default: .flyte/build
`;

/**
 * Runs the `build` command with the words after `build`; resolves with the exit status.
 * @throws UsageError when the command line is wrong
 */
export async function buildCommand(argv: readonly string[]): Promise<ExitCode> {
  const { flags, positionals } = readFlags(argv, (name) => name === "env" || name === "out");
  const values = new Map(flags.map((flag) => [flag.name, flag.value]));
  if (values.has("help")) {
    process.stdout.write(buildHelp);
    return ExitCode.ok;
  }
  for (const [name, value] of values) {
    if (name !== "env" && name !== "out") throw new UsageError(`Unknown option --${name}.`);
    if (value === true) throw new UsageError(`--${name} needs a value.`);
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    throw new UsageError(
      "`flyte-ts build` needs one file, e.g. `flyte-ts build app.ts --out build`.",
    );
  }
  const out = resolve(String(values.get("out") ?? join(".flyte", "build")));
  const namespace = await loadModule(file);
  const only = values.get("env");
  for (const env of environmentsIn(
    namespace,
    file,
    only === undefined ? undefined : String(only),
  )) {
    const image =
      env.image === "auto"
        ? Image.auto()
        : typeof env.image === "string"
          ? Image.fromPrebuilt(env.image)
          : env.image;
    if (!needsBuild(image)) {
      process.stdout.write(`${env.name}: ${image.uri} is prebuilt; nothing to build.\n`);
      continue;
    }
    const context = writeBuildContext(image, join(out, env.name));
    process.stdout.write(
      `${env.name}: ${context.uri}\n  context: ${context.dir}\n  build:   ${context.buildCommand}\n`,
    );
  }
  return ExitCode.ok;
}
