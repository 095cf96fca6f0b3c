/**
 * A Slurm cluster to offload tasks to: {@link Slurm}, given as an environment's `offload` (or a
 * run's). Where `sbatch` runs (this host, or a login host over SSH) and the scheduling options
 * every job of the environment gets; resources come from the task's {@link Resources}.
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";

/** Options of {@link Slurm}. Every field is optional: `new Slurm()` is this host's default partition. */
export interface SlurmOptions {
  /** The partition (`--partition`). @default the cluster's default partition */
  partition?: string;
  /** The account jobs are charged to (`--account`). @default the user's default account */
  account?: string;
  /** The quality of service (`--qos`). @default the account's default QOS */
  qos?: string;
  /**
   * Further `sbatch` options, verbatim: `{ exclusive: true, constraint: "a100" }` becomes
   * `--exclusive --constraint=a100`. They come after flyte-ts's own options, so they win.
   * @default {}
   */
  sbatchOptions?: Record<string, string | number | true>;
  /**
   * The login host `sbatch`, `squeue` and `scancel` run on, over SSH. Leave out to run them on
   * this host (a login node of the cluster). The cluster must see this host's project folder
   * and the run's `rawDataPath` at the same paths (a shared filesystem).
   * @default undefined (this host)
   */
  host?: string;
  /** The SSH user on `host`. @default the SSH configuration's (usually this user) */
  username?: string;
  /** The SSH port of `host`. @default 22 */
  port?: number;
  /**
   * Extra `ssh` arguments, e.g. `["-i", "~/.ssh/hpc", "-o", "ControlMaster=auto"]`. Nothing
   * is prompted for: `BatchMode=yes` is always set.
   * @default []
   */
  sshArgs?: readonly string[];
  /** The `ssh` program. @default "ssh" */
  ssh?: string;
  /**
   * Environment modules loaded in the job before the task runs (`module load <name>`), for
   * sites that keep Node.js or Apptainer behind Lmod. @default []
   */
  modules?: readonly string[];
  /**
   * Runs the task in the environment's image (when it names one; `"auto"` runs on the node):
   * `"apptainer"` (`apptainer exec docker://<image>`) or `"pyxis"` (`srun --container-image`).
   * The project folder and the run's data folder are bound at the same paths.
   * @default undefined (on the node, without a container)
   */
  container?: "apptainer" | "pyxis";
  /**
   * The Node.js program on the cluster's nodes. @default this process's `node` when `sbatch`
   * runs here, `"node"` (from the job's PATH) over SSH
   */
  node?: string;
  /**
   * Flyte GPU names → the cluster's GPU types in `--gres=gpu:<type>:<n>`, for sites whose
   * `gres.conf` names them differently. @default the lowercased name, spaces as `_` ("a100_80g")
   */
  gpuTypes?: Readonly<Record<string, string>>;
}

const slurmKeys = [
  "partition",
  "account",
  "qos",
  "sbatchOptions",
  "host",
  "username",
  "port",
  "sshArgs",
  "ssh",
  "modules",
  "container",
  "node",
  "gpuTypes",
] as const;

// What flyte-ts sets from Resources, the task and the run: given in sbatchOptions they would
// silently fight the engine's own values.
const reservedOptions = new Set([
  "array",
  "chdir",
  "D",
  "cpus-per-task",
  "c",
  "error",
  "e",
  "export",
  "gres",
  "gpus",
  "G",
  "job-name",
  "J",
  "mem",
  "output",
  "o",
  "parsable",
  "time",
  "t",
  "wait",
  "W",
]);
const optionName = /^[A-Za-z][A-Za-z0-9-]*$/;
const word = /^[^\s'"\\]+$/;

/**
 * A Slurm cluster: where `sbatch` runs and the scheduling options of the jobs sent there.
 *
 * @example
 * ```ts
 * const hpc = new flyte.Slurm({ partition: "gpu", account: "ml-lab", host: "login.hpc.example.edu" });
 * const env = new flyte.TaskEnvironment({ name: "train", offload: hpc, resources: { cpu: 8, gpu: "A100:2" } });
 * ```
 */
export class Slurm {
  /** Tells a Slurm cluster apart from other offload targets (also across copies of flyte-ts). */
  readonly kind = "slurm" as const;
  readonly partition: string | undefined;
  readonly account: string | undefined;
  readonly qos: string | undefined;
  readonly sbatchOptions: Readonly<Record<string, string | number | true>>;
  readonly host: string | undefined;
  readonly username: string | undefined;
  readonly port: number | undefined;
  readonly sshArgs: readonly string[];
  readonly ssh: string;
  readonly modules: readonly string[];
  readonly container: "apptainer" | "pyxis" | undefined;
  readonly node: string | undefined;
  readonly gpuTypes: Readonly<Record<string, string>>;

  constructor(options: SlurmOptions = {}) {
    const problems = new Problems("Slurm");
    const o: SlurmOptions = checkKeys(problems, options, slurmKeys) ? options : {};
    this.partition = optionalWord(problems, "partition", o.partition);
    this.account = optionalWord(problems, "account", o.account);
    this.qos = optionalWord(problems, "qos", o.qos);
    this.host = optionalWord(problems, "host", o.host);
    this.username = optionalWord(problems, "username", o.username);
    this.node = optionalWord(problems, "node", o.node);
    this.ssh = optionalWord(problems, "ssh", o.ssh) ?? "ssh";
    if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)) {
      problems.add(
        "port",
        `Expected \`port\` to be a whole number 1..65535, got ${describe(o.port)}.`,
      );
    }
    this.port = o.port;
    this.sshArgs = Object.freeze(stringList(problems, "sshArgs", o.sshArgs, /^[^\n]*$/));
    this.modules = Object.freeze(stringList(problems, "modules", o.modules, word));
    if (o.container !== undefined && o.container !== "apptainer" && o.container !== "pyxis") {
      problems.add(
        "container",
        `Expected \`container\` to be "apptainer", "pyxis" or left out, got ${describe(o.container)}.`,
      );
    }
    this.container = o.container;
    this.sbatchOptions = Object.freeze(checkSbatchOptions(problems, o.sbatchOptions));
    this.gpuTypes = Object.freeze(checkGpuTypes(problems, o.gpuTypes));
    if (this.host === undefined && (o.username !== undefined || o.port !== undefined)) {
      problems.add("host", "`username` and `port` are for SSH: give the login `host` too.");
    }
    problems.throwIfAny();
  }

  /** Where `sbatch` runs, for messages: `"this host"` or `"user@login:port over SSH"`. */
  describeWhere(): string {
    if (this.host === undefined) return "this host";
    const user = this.username === undefined ? "" : `${this.username}@`;
    const port = this.port === undefined ? "" : `:${this.port}`;
    return `${user}${this.host}${port} over SSH`;
  }
}

/** Whether an offload target is a Slurm cluster (`"slurm"` or a {@link Slurm}). */
export function isSlurm(offload: unknown): offload is "slurm" | Slurm {
  return (
    offload === "slurm" ||
    (typeof offload === "object" && offload !== null && (offload as Slurm).kind === "slurm")
  );
}

function optionalWord(problems: Problems, name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !word.test(value)) {
    problems.add(
      name,
      `Expected \`${name}\` to be a non-empty string without spaces or quotes, got ${describe(value)}.`,
    );
    return undefined;
  }
  return value;
}

function stringList(problems: Problems, name: string, value: unknown, pattern: RegExp): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add(name, `Expected \`${name}\` to be an array of strings, got ${describe(value)}.`);
    return [];
  }
  value.forEach((item, i) => {
    if (typeof item !== "string" || !pattern.test(item) || item === "") {
      problems.add(`${name}[${i}]`, `Expected a non-empty string, got ${describe(item)}.`);
    }
  });
  return [...(value as string[])];
}

function checkSbatchOptions(
  problems: Problems,
  value: unknown,
): Record<string, string | number | true> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.add(
      "sbatchOptions",
      `Expected \`sbatchOptions\` to be an object such as { exclusive: true }, got ${describe(value)}.`,
    );
    return {};
  }
  const options: Record<string, string | number | true> = {};
  for (const [key, option] of Object.entries(value)) {
    const path = `sbatchOptions.${key}`;
    const name = key.replace(/^-+/, "");
    if (!optionName.test(name)) {
      problems.add(
        path,
        `Expected an sbatch option name such as "constraint", got ${describe(key)}.`,
      );
      continue;
    }
    if (reservedOptions.has(name)) {
      problems.add(
        path,
        `flyte-ts sets --${name} itself (from the task's Resources, timeout, or the run). Set it there instead.`,
      );
      continue;
    }
    const valid =
      option === true ||
      (typeof option === "number" && Number.isFinite(option)) ||
      (typeof option === "string" && /^[^\n]*$/.test(option));
    if (!valid) {
      problems.add(path, `Expected a string, a number or true, got ${describe(option)}.`);
      continue;
    }
    options[name] = option as string | number | true;
  }
  return options;
}

function checkGpuTypes(problems: Problems, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.add(
      "gpuTypes",
      `Expected \`gpuTypes\` to be an object such as { A100: "a100" }, got ${describe(value)}.`,
    );
    return {};
  }
  const types: Record<string, string> = {};
  for (const [key, type] of Object.entries(value)) {
    if (typeof type !== "string" || !/^[A-Za-z0-9_.-]+$/.test(type)) {
      problems.add(
        `gpuTypes.${key}`,
        `Expected a gres type name such as "a100", got ${describe(type)}.`,
      );
    } else types[key] = type;
  }
  return types;
}
