/**
 * Emits one offloaded action: the environment's image build context, the code bundle, the
 * inputs file and the Job (`job.yaml`) whose command runs the action with `flyte-ts execute`.
 * One {@link Emitter} serves a run: images and the bundle are written once, actions each time.
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Image } from "../api/image.js";
import type { TaskTemplate } from "../api/task.js";
import { DeploymentError } from "../errors.js";
import { importModule } from "../internal/import-module.js";
import { type BuildContext, needsBuild, writeBuildContext } from "./build-context.js";
import type { CopyStyle } from "./bundle.js";
import { type CodeBundle, writeBundle } from "./bundle.js";
import { bundledPath } from "./interactive-bundle.js";
import { INPUTS_FILE, writeInputs } from "./io.js";
import { type JsonObject, jobFor } from "./kubernetes.js";
import { shellJoin } from "./shell.js";

/** The run-wide settings of an {@link Emitter}. */
export interface EmitterOptions {
  readonly runName: string;
  /** Where the Job files and image build contexts go (`copyBundleTo`). */
  readonly emitDir: string;
  /** Where inputs, outputs and the bundle go: a folder the pods share with this host. */
  readonly dataDir: string;
  readonly rawDataPath: string;
  readonly copyStyle: CopyStyle;
  /** Ship each task module bundled by esbuild (`interactiveMode`) instead of the sources. */
  readonly interactive?: boolean;
  readonly version: string | undefined;
  readonly serviceAccount: string | undefined;
  readonly namespace: string | undefined;
  readonly customContext: Readonly<Record<string, string>>;
  /** The project folder: module paths and image files are relative to it. @default the working directory */
  readonly root?: string;
  /** The run's root task module, bundled with every offloaded task's own module. */
  readonly entryModule?: string | undefined;
  /** The run's flyte folder (cache, runs, secrets), never bundled. */
  readonly home?: string | undefined;
}

/** What was emitted for one action. */
export interface EmittedAction {
  readonly jobFile: string;
  readonly job: JsonObject;
  /** The container's command line, word by word. */
  readonly command: readonly string[];
  readonly inputsFile: string;
  /** The folder the action writes `outputs.v8` or `error.json` into. */
  readonly outputsPath: string;
  /** The image's build context, or `undefined` for a prebuilt image. */
  readonly image: BuildContext | undefined;
  readonly imageUri: string;
  readonly bundle: CodeBundle | undefined;
  /** The command that submits the Job. */
  readonly kubectl: string;
}

/** Options of {@link Emitter.emit}. */
export interface EmitActionOptions {
  readonly template: TaskTemplate;
  readonly args: readonly unknown[];
  readonly actionName: string;
  /** Names the Job and the outputs folder per attempt when set (hybrid: the controller retries). */
  readonly attempt?: number;
  /** Overrides the Job's `backoffLimit` (hybrid sets 0: the controller owns retries). */
  readonly backoffLimit?: number;
  /** The action's custom context, when it differs from the run's (`flyte.customContext`). */
  readonly customContext?: Readonly<Record<string, string>>;
}

/** The image an environment runs in, as an {@link Image}. */
export function imageOf(template: TaskTemplate): Image {
  const image = template.environment.image;
  if (image === "auto") return Image.auto();
  return typeof image === "string" ? Image.fromPrebuilt(image) : image;
}

/** Writes what offloaded actions of one run need. */
export class Emitter {
  readonly #options: EmitterOptions;
  readonly #root: string;
  readonly #images = new Map<string, BuildContext | undefined>();
  #bundle: Promise<CodeBundle | undefined> | undefined;

  constructor(options: EmitterOptions) {
    this.#options = options;
    this.#root = resolve(options.root ?? process.cwd());
    if (options.copyStyle === "none" && !options.interactive && options.version === undefined) {
      throw new DeploymentError(
        'Version must be set when copyStyle is "none": there is no bundle to hash. Pass `version` to withRunContext().',
      );
    }
  }

  /** Emits one action and returns where everything went. */
  async emit(action: EmitActionOptions): Promise<EmittedAction> {
    const o = this.#options;
    const { template } = action;
    const moduleUrl = template.moduleUrl;
    if (moduleUrl === undefined || !moduleUrl.startsWith("file:")) {
      throw new DeploymentError(
        `Task \`${template.name}\` cannot be offloaded: its module is not a file (${moduleUrl ?? "unknown"}). Define it at the top level of a module file.`,
      );
    }
    const bundle = await this.#writeBundle(moduleUrl);
    const version = o.version ?? bundle?.hash ?? "";
    const image = imageOf(template);
    const context = this.#writeImage(template.environment.name, image);
    const suffix = action.attempt === undefined ? "" : `/attempt-${action.attempt}`;
    const actionDir = join(o.dataDir, "actions", action.actionName);
    const inputsFile = join(actionDir, INPUTS_FILE);
    const outputsPath = join(actionDir, `outputs${suffix}`);
    await writeInputs(inputsFile, {
      args: action.args,
      customContext: action.customContext ?? o.customContext,
    });
    const modulePath = o.interactive
      ? bundledPath(this.#root, fileURLToPath(moduleUrl))
      : relative(this.#root, fileURLToPath(moduleUrl)).split(sep).join("/");
    const command = [
      "flyte-ts",
      "execute",
      ...["--inputs", inputsFile, "--outputs-path", outputsPath, "--version", version],
      ...["--raw-data-path", o.rawDataPath, "--checkpoint-path", join(actionDir, "checkpoint")],
      ...["--run-name", o.runName, "--name", action.actionName],
      ...["--module", modulePath, "--task", template.name],
      ...(bundle === undefined ? [] : ["--tgz", bundle.file, "--dest", "."]),
    ];
    const job = jobFor({
      template,
      image: image.uri,
      command,
      runName: o.runName,
      actionName:
        action.attempt === undefined ? action.actionName : `${action.actionName}-${action.attempt}`,
      ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
      ...(o.serviceAccount === undefined ? {} : { serviceAccount: o.serviceAccount }),
    });
    if (action.backoffLimit !== undefined)
      (job.spec as JsonObject).backoffLimit = action.backoffLimit;
    const jobDir = join(o.emitDir, "actions", action.actionName);
    await mkdir(jobDir, { recursive: true });
    const jobFile = join(jobDir, `job${suffix.replace("/", "-")}.yaml`);
    const { stringify } = await importModule<typeof import("yaml")>("yaml");
    await writeFile(jobFile, stringify(job, { lineWidth: 0 }));
    return {
      jobFile,
      job,
      command,
      inputsFile,
      outputsPath,
      image: context,
      imageUri: image.uri,
      bundle,
      kubectl: shellJoin(["kubectl", "apply", "-f", jobFile]),
    };
  }

  #writeBundle(moduleUrl: string): Promise<CodeBundle | undefined> {
    // One bundle per run, from the first offloaded task's module and its imports.
    this.#bundle ??= writeBundle({
      copyStyle: this.#options.copyStyle,
      modules: [
        moduleUrl,
        ...(this.#options.entryModule?.startsWith("file:") ? [this.#options.entryModule] : []),
      ],
      root: this.#root,
      dir: this.#options.dataDir,
      interactive: this.#options.interactive === true,
      ...(this.#options.home === undefined ? {} : { home: this.#options.home }),
    });
    return this.#bundle;
  }

  #writeImage(envName: string, image: Image): BuildContext | undefined {
    if (!this.#images.has(envName)) {
      const dir = join(this.#options.emitDir, "images", envName);
      this.#images.set(
        envName,
        needsBuild(image) ? writeBuildContext(image, dir, { root: this.#root }) : undefined,
      );
    }
    return this.#images.get(envName);
  }
}

/** A few lines saying what was emitted and how to build and submit it. */
export function describeEmitted(emitted: EmittedAction): string {
  const lines = [`  Job:     ${emitted.jobFile}`];
  if (emitted.image !== undefined) {
    lines.push(`  image:   ${emitted.image.dir} (build: ${emitted.image.buildCommand})`);
  } else lines.push(`  image:   ${emitted.imageUri} (prebuilt)`);
  lines.push(`  inputs:  ${emitted.inputsFile}`);
  if (emitted.bundle !== undefined) lines.push(`  bundle:  ${emitted.bundle.file}`);
  lines.push(`  outputs: ${emitted.outputsPath} (written by the pod)`);
  lines.push(`Submit it with: ${emitted.kubectl}`);
  return lines.join("\n");
}
