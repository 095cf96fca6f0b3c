/**
 * `flyte-ts execute --inputs <file> --outputs-path <dir> --run-name <r> --name <action>
 * --module <path> --task <name> [...]`: runs one offloaded action (the command an emitted Job's
 * container runs). Exit status 0 when outputs were written, 1 when an error file was.
 * @module
 */
import { type ExecuteActionOptions, executeAction } from "../run/execute-action.js";
import { readFlags } from "./flags.js";
import { loadModule } from "./load-module.js";
import { ExitCode, UsageError } from "./usage.js";

/** `flyte-ts execute --help`. */
export const executeHelp = `Usage: flyte-ts execute --inputs <file> --outputs-path <dir> --run-name <run> --name <action>
                        --module <path> --task <env.function> [options]

Runs one task from an inputs file into an outputs folder: the command inside an offloaded
action's container. Writes <outputs-path>/outputs.v8, or <outputs-path>/error.json (code, kind,
message, stack) when the task fails; both atomically.

Options:
  --version <v>            the code version (informational)
  --raw-data-path <dir>    folder for large data written by the task
  --checkpoint-path <dir>  folder for checkpoints
  --tgz <file>             a code bundle to unpack into --dest first
  --dest <dir>             where the bundle is unpacked and --module is found   default: .
  --attempt <n>            which attempt of the action this is (flyte.ctx().attemptNumber)
                                                                                 default: 0

The task runs once: its retries belong to whoever submitted the action.

Exit status: 0 when the task succeeded, 1 when it failed, 2 when the command line was wrong.
`;

const required = ["inputs", "outputs-path", "run-name", "name", "module", "task"] as const;
const optional = ["version", "raw-data-path", "checkpoint-path", "tgz", "dest", "attempt"] as const;
const known = new Set<string>([...required, ...optional]);

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Runs the `execute` command with the words after `execute`; resolves with the exit status.
 * @throws UsageError when a flag is unknown or a required flag is missing
 */
export async function executeCommand(argv: readonly string[]): Promise<ExitCode> {
  const { flags, positionals } = readFlags(argv, (name) => name !== "help");
  if (flags.some((flag) => flag.name === "help")) {
    process.stdout.write(executeHelp);
    return ExitCode.ok;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${positionals[0]}". See \`flyte-ts execute --help\`.`,
    );
  }
  const values: Record<string, string> = {};
  for (const flag of flags) {
    if (!known.has(flag.name)) {
      throw new UsageError(`Unknown option --${flag.name}. See \`flyte-ts execute --help\`.`);
    }
    if (flag.value === true) throw new UsageError(`--${flag.name} needs a value.`);
    values[camel(flag.name)] = flag.value;
  }
  const missing = required.filter((name) => values[camel(name)] === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      `\`flyte-ts execute\` needs ${missing.map((m) => `--${m}`).join(", ")}. See \`flyte-ts execute --help\`.`,
    );
  }
  const options = { ...values, loadModule } as unknown as ExecuteActionOptions;
  const ok = await executeAction(options);
  if (!ok) console.error(`Task \`${options.task}\` failed; see ${options.outputsPath}/error.json.`);
  const code = ok ? ExitCode.ok : ExitCode.failed;
  // The job (or pod) ends once its outcome is written, even if the task left timers or sockets
  // open (an inline body stopped at its maxRuntime keeps running): a second for output to flush.
  setTimeout(() => process.exit(code), 1_000).unref();
  return code;
}
