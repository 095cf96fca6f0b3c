/**
 * Task → Slurm: {@link batchScript} writes the `sbatch` script that runs one offloaded action (or
 * the items of one `flyte.map`, as a job array) with `flyte-ts execute`, in the project folder on
 * the filesystem the cluster shares with this host. Resources become `#SBATCH` options; values of
 * environment variables and secrets never appear in it.
 * @module
 */
import { writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Resources } from "../api/resources.js";
import type { Slurm } from "../api/slurm.js";
import type { TaskTemplate } from "../api/task.js";
import { slurmRefusal } from "../api/task-environment.js";
import { DeploymentError } from "../errors.js";
import { INPUTS_FILE, writeInputs } from "./io.js";
import { shellJoin, shellQuote } from "./shell.js";

/** The `flyte-ts` command of this copy of the engine (its bin script, on the shared filesystem). */
export const flyteTsBin = fileURLToPath(new URL("../../bin/flyte-ts.js", import.meta.url));

/** One action a script runs: its name and attempt number. */
export interface SlurmItem {
  readonly actionName: string;
  readonly attempt: number;
}

/** Where an action's files are, under the run's shared data folder. */
export interface ActionPaths {
  readonly inputs: string;
  readonly outputs: string;
  readonly checkpoint: string;
}

/** The files of `item` under `dataDir` (`<rawDataPath>/offload`), as the Kubernetes offload lays them out. */
export function actionPaths(dataDir: string, item: SlurmItem): ActionPaths {
  const dir = join(dataDir, "actions", item.actionName);
  return {
    inputs: join(dir, INPUTS_FILE),
    outputs: join(dir, "outputs", `attempt-${item.attempt}`),
    checkpoint: join(dir, "checkpoint"),
  };
}

/** Options of {@link batchScript}. */
export interface BatchScriptOptions {
  readonly template: TaskTemplate;
  readonly cluster: Slurm;
  readonly runName: string;
  /** The project folder: the job runs there, and the task's module is found under it. */
  readonly root: string;
  /** The run's shared data folder (`<rawDataPath>/offload`). */
  readonly dataDir: string;
  readonly rawDataPath: string;
  /** One item: a plain job. Several: a job array, item `i` at array index `i`. */
  readonly items: readonly SlurmItem[];
  /** At most this many array items run at once (`%k`); 0 or undefined: no limit. */
  readonly concurrency?: number;
  readonly jobName: string;
  /** The job's stdout and stderr files (`%a` stands for the array index). */
  readonly stdout: string;
  readonly stderr: string;
  /** The Node.js program on the nodes. @default the cluster's `node`, else this process's when sbatch runs here, else "node" */
  readonly node?: string;
  /** The code version, passed to `flyte-ts execute`. */
  readonly version?: string;
}

/**
 * The `sbatch` options for `template` on `cluster`, without the per-job ones (name, output, array):
 * cpu → `--cpus-per-task` (rounded up), memory → `--mem` (the limit when given, else the
 * request), disk → `--tmp`, GPUs → `--gres=gpu[:type]:N`, `maxRuntime` → `--time` (whole
 * minutes, rounded up), then the cluster's partition, account, qos and `sbatchOptions`.
 * @throws DeploymentError for a TPU or a MIG slice, which Slurm cannot be asked for
 */
export function sbatchOptions(template: TaskTemplate, cluster: Slurm): string[] {
  const refused = slurmRefusal(template.resources);
  if (refused !== undefined) {
    throw new DeploymentError(`Task \`${template.name}\` cannot run on Slurm. ${refused}`, {
      code: "SlurmRefused",
    });
  }
  const options = ["--nodes=1", "--ntasks=1"];
  if (cluster.partition !== undefined) options.push(`--partition=${cluster.partition}`);
  if (cluster.account !== undefined) options.push(`--account=${cluster.account}`);
  if (cluster.qos !== undefined) options.push(`--qos=${cluster.qos}`);
  options.push(...resourceOptions(template.resources, cluster));
  const maxRuntimeMs = template.timeout.maxRuntimeMs;
  if (maxRuntimeMs !== undefined && maxRuntimeMs > 0) {
    options.push(`--time=${Math.ceil(maxRuntimeMs / 60_000)}`);
  }
  for (const [name, value] of Object.entries(cluster.sbatchOptions)) {
    options.push(value === true ? `--${name}` : `--${name}=${value}`);
  }
  return options;
}

function resourceOptions(resources: Resources | undefined, cluster: Slurm): string[] {
  if (resources === undefined) return [];
  const options: string[] = [];
  if (resources.cpuRequest !== undefined) {
    options.push(`--cpus-per-task=${Math.max(1, Math.ceil(resources.cpuRequest))}`);
  }
  // Slurm enforces --mem as a hard limit: ask for what the task may use, not only its request.
  const memoryBytes = resources.memoryLimitBytes ?? resources.memoryRequestBytes;
  if (memoryBytes !== undefined) options.push(`--mem=${Math.ceil(memoryBytes / 2 ** 20)}M`);
  if (resources.diskBytes !== undefined) {
    options.push(`--tmp=${Math.ceil(resources.diskBytes / 2 ** 20)}M`);
  }
  const device = resources.getDevice();
  if (device !== null && device.quantity > 0) {
    const type = device.device === undefined ? undefined : gresType(device.device, cluster);
    options.push(`--gres=gpu${type === undefined ? "" : `:${type}`}:${device.quantity}`);
  }
  return options;
}

/** The cluster's name for a GPU model: its `gpuTypes` entry, else lowercased with spaces as `_`. */
export function gresType(model: string, cluster: Slurm): string {
  return cluster.gpuTypes[model] ?? model.toLowerCase().replace(/\s+/g, "_");
}

/**
 * The batch script of one job (one item) or one job array (several). It runs, in the project
 * folder, `flyte-ts execute` for its action (the array index picks the item), inside the
 * environment's image when the cluster has a `container` runtime and the environment names an
 * image. The values of `envVars` reach the job through sbatch's environment (`--export=ALL`) and
 * secrets are read by `flyte-ts execute` on the cluster, so neither is written here.
 * @throws DeploymentError when a path cannot be written into an `#SBATCH` line, or Slurm cannot be asked for the task's devices
 */
export function batchScript(options: BatchScriptOptions): string {
  const { template, cluster, items } = options;
  if (items.length === 0) throw new RangeError("A batch script needs at least one item.");
  const array = items.length > 1;
  const directives = [
    `--job-name=${options.jobName}`,
    `--output=${directiveValue(options.stdout)}`,
    `--error=${directiveValue(options.stderr)}`,
    `--chdir=${directiveValue(options.root)}`,
    "--export=ALL",
    ...(array ? [`--array=0-${items.length - 1}${throttle(options.concurrency)}`] : []),
    ...sbatchOptions(template, cluster),
  ];
  const lines = [
    "#!/bin/bash",
    ...directives.map((d) => `#SBATCH ${d}`),
    `# flyte-ts: run ${options.runName}, task ${template.name}, ${describeItems(items)}.`,
    "# The controller owns retries: each attempt is its own job.",
    ...envComment(template),
    "set -eu",
    ...cluster.modules.map((name) => `module load ${shellQuote(name)}`),
  ];
  const paths = (item: string, attempt: string) => ({
    inputs: `${shellQuote(join(options.dataDir, "actions"))}/${item}/${INPUTS_FILE}`,
    outputs: `${shellQuote(join(options.dataDir, "actions"))}/${item}/outputs/attempt-${attempt}`,
    checkpoint: `${shellQuote(join(options.dataDir, "actions"))}/${item}/checkpoint`,
  });
  let action: string;
  let attempt: string;
  let files: { inputs: string; outputs: string; checkpoint: string };
  if (array) {
    lines.push(
      `actions=(${items.map((i) => shellQuote(i.actionName)).join(" ")})`,
      `attempts=(${items.map((i) => i.attempt).join(" ")})`,
      // The array index picks this job's item (bash, not a template string).
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
      'action="${actions[$SLURM_ARRAY_TASK_ID]}"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
      'attempt="${attempts[$SLURM_ARRAY_TASK_ID]}"',
    );
    action = '"$action"';
    attempt = '"$attempt"';
    files = paths(action, attempt);
  } else {
    const [item] = items as [SlurmItem];
    action = shellQuote(item.actionName);
    attempt = String(item.attempt);
    const own = actionPaths(options.dataDir, item);
    files = {
      inputs: shellQuote(own.inputs),
      outputs: shellQuote(own.outputs),
      checkpoint: shellQuote(own.checkpoint),
    };
  }
  const execute = [
    "execute",
    ...["--inputs", files.inputs, "--outputs-path", files.outputs],
    ...(options.version === undefined ? [] : ["--version", shellQuote(options.version)]),
    ...["--raw-data-path", shellQuote(options.rawDataPath)],
    ...["--checkpoint-path", files.checkpoint],
    ...["--run-name", shellQuote(options.runName), "--name", action, "--attempt", attempt],
    ...["--module", shellQuote(modulePath(template, options.root))],
    ...["--task", shellQuote(template.name)],
  ];
  lines.push(`exec ${launcher(options)} ${execute.join(" ")}`, "");
  return lines.join("\n");
}

/** How the job starts Node.js: on the node, or inside the environment's image. */
function launcher(options: BatchScriptOptions): string {
  const { cluster, template } = options;
  const image = template.environment.image;
  const imageUri = typeof image === "string" ? image : image.uri;
  const container = image === "auto" ? undefined : cluster.container;
  if (container === undefined) {
    const node =
      options.node ?? cluster.node ?? (cluster.host === undefined ? process.execPath : "node");
    return shellJoin([node, flyteTsBin]);
  }
  // The image brings Node.js; the project, the data and this engine come from the shared filesystem.
  const node = options.node ?? cluster.node ?? "node";
  const binds = [options.root, options.rawDataPath];
  const engine = dirname(dirname(flyteTsBin));
  if (relative(options.root, engine).startsWith("..")) binds.push(engine);
  if (container === "apptainer") {
    const gpus = (template.resources?.getDevice()?.quantity ?? 0) > 0 ? ["--nv"] : [];
    return shellJoin([
      "apptainer",
      "exec",
      ...gpus,
      "--bind",
      binds.join(","),
      "--pwd",
      options.root,
      `docker://${imageUri}`,
      node,
      flyteTsBin,
    ]);
  }
  return shellJoin([
    "srun",
    `--container-image=${pyxisImage(imageUri)}`,
    `--container-mounts=${binds.map((b) => `${b}:${b}`).join(",")}`,
    `--container-workdir=${options.root}`,
    node,
    flyteTsBin,
  ]);
}

/** Pyxis (enroot) separates the registry from the path with `#`: `ghcr.io#org/app:tag`. */
export function pyxisImage(uri: string): string {
  const slash = uri.indexOf("/");
  if (slash === -1) return uri;
  const first = uri.slice(0, slash);
  return /[.:]/.test(first) || first === "localhost" ? `${first}#${uri.slice(slash + 1)}` : uri;
}

/** The task's module: relative to the project folder when inside it, else absolute. */
function modulePath(template: TaskTemplate, root: string): string {
  const url = template.moduleUrl;
  if (url === undefined || !url.startsWith("file:")) {
    throw new DeploymentError(
      `Task \`${template.name}\` cannot be offloaded: its module is not a file (${url ?? "unknown"}). Define it at the top level of a module file.`,
    );
  }
  const path = fileURLToPath(url);
  const inside = relative(resolve(root), path);
  return inside.startsWith("..") || isAbsolute(inside) ? path : inside.split(sep).join("/");
}

function throttle(concurrency: number | undefined): string {
  return concurrency !== undefined && concurrency > 0 ? `%${concurrency}` : "";
}

function describeItems(items: readonly SlurmItem[]): string {
  if (items.length > 1) return `${items.length} items of a flyte.map as a job array`;
  const [item] = items as [SlurmItem];
  return `action ${item.actionName}, attempt ${item.attempt}`;
}

function envComment(template: TaskTemplate): string[] {
  const names = [...Object.keys(template.envVars)];
  const secrets = template.secrets.map((s) => s.envVarName);
  const lines: string[] = [];
  if (names.length > 0) {
    lines.push(
      `# Environment variables from sbatch's environment (values not written here): ${names.join(", ")}`,
    );
  }
  if (secrets.length > 0) {
    lines.push(
      `# Secrets, read by flyte-ts execute on the cluster (its environment or .flyte/secrets.env): ${secrets.join(", ")}`,
    );
  }
  return lines;
}

/** A value for an `#SBATCH` line: double-quoted when it has spaces (sbatch reads the quotes). */
function directiveValue(value: string): string {
  if (/["\n\r]/.test(value)) {
    throw new DeploymentError(
      `The path ${JSON.stringify(value)} cannot be written into an #SBATCH line (it holds a quote or a line break). Use a folder without them.`,
    );
  }
  return /\s/.test(value) ? `"${value}"` : value;
}

/** Options of {@link writeSlurmDryRun}. */
export interface SlurmDryRunOptions {
  readonly template: TaskTemplate;
  readonly cluster: Slurm;
  readonly args: readonly unknown[];
  readonly runName: string;
  /** Where the script, the inputs, the outputs and the job's logs go (`copyBundleTo`). */
  readonly dir: string;
  readonly rawDataPath: string;
  readonly customContext: Readonly<Record<string, string>>;
  readonly version: string | undefined;
  /** The project folder. @default the working directory */
  readonly root?: string;
}

/**
 * Writes what a dry run offloads to Slurm: the root action's inputs and its batch script,
 * `<dir>/actions/a0/job.sbatch`, which `sbatch` submits as it is (the task's `envVars` must be
 * in the submitting shell's environment). Resolves with the script's path.
 */
export async function writeSlurmDryRun(options: SlurmDryRunOptions): Promise<string> {
  const item = { actionName: "a0", attempt: 0 };
  const paths = actionPaths(options.dir, item);
  const actionDir = dirname(paths.inputs);
  const script = batchScript({
    template: options.template,
    cluster: options.cluster,
    runName: options.runName,
    root: resolve(options.root ?? process.cwd()),
    dataDir: options.dir,
    rawDataPath: options.rawDataPath,
    items: [item],
    jobName: `flyte-${options.runName}-a0`.replace(/[^A-Za-z0-9_.-]+/g, "-"),
    stdout: join(actionDir, "slurm-%j.out"),
    stderr: join(actionDir, "slurm-%j.err"),
    ...(options.version === undefined ? {} : { version: options.version }),
  });
  await writeInputs(paths.inputs, { args: options.args, customContext: options.customContext });
  const file = join(actionDir, "job.sbatch");
  await writeFile(file, script);
  return file;
}
