/**
 * `flyte-ts deploy --dry-run <file> [--out dir] [--version v] [--copy-style s]`: writes the
 * Kubernetes Job of every task of every environment in <file>, plus the code bundle. The Jobs'
 * per-run values are flyte's template placeholders (`{{.input}}`, `{{.runName}}`, ...).
 * flyte-ts has no server to deploy to, so `--dry-run` is required.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { TaskTemplate } from "../api/task.js";
import { DeploymentError } from "../errors.js";
import { importModule } from "../internal/import-module.js";
import { writeBundle } from "../offload/bundle.js";
import { imageOf } from "../offload/emit.js";
import { jobFor } from "../offload/kubernetes.js";
import type { CopyStyle } from "../run/run.js";
import { environmentsIn, taskEnvironments } from "./environments.js";
import { readFlags } from "./flags.js";
import { loadModule } from "./load-module.js";
import { ExitCode, UsageError } from "./usage.js";

/** `flyte-ts deploy --help`. */
export const deployHelp = `Usage: flyte-ts deploy --dry-run <file> [--out dir] [--version v] [--copy-style s]

Writes <out>/<environment>/<task>.job.yaml for every task of every environment in <file>
(dependencies first), and the code bundle <out>/bundle-<hash>.tgz. The Jobs' per-run values
are placeholders: {{.input}}, {{.outputPrefix}}, {{.rawOutputDataPrefix}},
{{.checkpointOutputPrefix}}, {{.runName}}, {{.actionName}}.

Options:
  --dry-run              required: flyte-ts has no server to deploy to
  --out <dir>            default: .flyte/deploy
  --version <v>          the code version   default: the bundle's hash
  --copy-style <s>       loaded_modules | all | none   default: loaded_modules
`;

const valueFlags = new Set(["out", "version", "copy-style"]);

/**
 * Runs the `deploy` command with the words after `deploy`; resolves with the exit status.
 * @throws UsageError when the command line is wrong or `--dry-run` is missing
 */
export async function deployCommand(argv: readonly string[]): Promise<ExitCode> {
  const { flags, positionals } = readFlags(argv, (name) => valueFlags.has(name));
  const values = new Map(flags.map((flag) => [flag.name, flag.value]));
  if (values.has("help")) {
    process.stdout.write(deployHelp);
    return ExitCode.ok;
  }
  for (const [name, value] of values) {
    if (name === "dry-run") continue;
    if (!valueFlags.has(name)) throw new UsageError(`Unknown option --${name}.`);
    if (value === true) throw new UsageError(`--${name} needs a value.`);
  }
  if (!values.has("dry-run")) {
    throw new UsageError(
      'flyte-ts has no server to deploy to: pass --dry-run to write the Jobs, or run with mode "remote" / "hybrid" to submit them.',
    );
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    throw new UsageError("`flyte-ts deploy --dry-run` needs one file.");
  }
  const copyStyle = String(values.get("copy-style") ?? "loaded_modules") as CopyStyle;
  if (!["loaded_modules", "all", "none"].includes(copyStyle)) {
    throw new UsageError(`--copy-style must be loaded_modules, all or none, got "${copyStyle}".`);
  }
  const out = resolve(String(values.get("out") ?? join(".flyte", "deploy")));
  const namespace = await loadModule(file);
  const envs = taskEnvironments(environmentsIn(namespace, file));
  const templates: TaskTemplate[] = envs.flatMap((env) => [...env.tasks.values()]);
  const modules = templates.flatMap((t) => (t.moduleUrl?.startsWith("file:") ? [t.moduleUrl] : []));
  const bundle = await writeBundle({ copyStyle, modules, dir: out });
  const version = values.get("version") ?? bundle?.hash;
  if (version === undefined) {
    throw new DeploymentError('Version must be set when --copy-style is "none". Pass --version.');
  }
  // Imported here: the engine is one bundle, and a static import would load yaml for every command.
  const { stringify } = await importModule<typeof import("yaml")>("yaml");
  for (const template of templates) {
    const modulePath = relative(process.cwd(), fileURLToPath(template.moduleUrl ?? ""))
      .split(sep)
      .join("/");
    const command = [
      "flyte-ts",
      "execute",
      ...[
        "--inputs",
        "{{.input}}",
        "--outputs-path",
        "{{.outputPrefix}}",
        "--version",
        String(version),
      ],
      ...["--raw-data-path", "{{.rawOutputDataPrefix}}"],
      ...["--checkpoint-path", "{{.checkpointOutputPrefix}}"],
      ...["--run-name", "{{.runName}}", "--name", "{{.actionName}}"],
      ...["--module", modulePath, "--task", template.name],
      ...(bundle === undefined ? [] : ["--tgz", bundle.file, "--dest", "."]),
    ];
    const job = jobFor({
      template,
      image: imageOf(template).uri,
      command,
      runName: `deploy-${version}`,
      actionName: template.name,
    });
    const folder = join(out, template.environment.name);
    mkdirSync(folder, { recursive: true });
    const jobFile = join(folder, `${template.shortName}.job.yaml`);
    writeFileSync(jobFile, stringify(job, { lineWidth: 0 }));
    process.stdout.write(`${template.name}: ${jobFile}\n`);
  }
  if (bundle !== undefined) process.stdout.write(`bundle: ${bundle.file} (version ${version})\n`);
  return ExitCode.ok;
}
