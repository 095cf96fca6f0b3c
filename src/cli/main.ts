/**
 * The `flyte-ts` command: picks the subcommand and turns its outcome into an exit status.
 * `bin/flyte-ts.js` calls {@link main}; importing this module starts nothing.
 * @module
 */
import { knownSecrets } from "../internal/secret-mask.js";
import { version } from "../version.js";
import { buildCommand } from "./build.js";
import { cacheCommand } from "./cache.js";
import { deployCommand } from "./deploy.js";
import { devicesCommand } from "./devices.js";
import { didYouMean } from "./did-you-mean.js";
import { executeCommand } from "./execute.js";
import { formatError } from "./print.js";
import { runCommand } from "./run.js";
import { runsCommand } from "./runs.js";
import { runsLogsCommand } from "./runs-logs.js";
import { statusCommand } from "./status.js";
import { ExitCode, mainHelp, UsageError } from "./usage.js";

const commands = ["run", "cache", "runs", "execute", "build", "deploy", "devices", "status"];

async function dispatch(argv: readonly string[]): Promise<ExitCode> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      process.stderr.write(mainHelp);
      return ExitCode.usage;
    case "-h":
    case "--help":
    case "help":
      process.stdout.write(mainHelp);
      return ExitCode.ok;
    case "-v":
    case "--version":
      process.stdout.write(`${version}\n`);
      return ExitCode.ok;
    case "run":
      return runCommand(rest);
    case "cache":
      return cacheCommand(rest);
    case "runs":
      return rest[0] === "logs" ? runsLogsCommand(rest.slice(1)) : runsCommand(rest);
    case "execute":
      return executeCommand(rest);
    case "build":
      return buildCommand(rest);
    case "deploy":
      return deployCommand(rest);
    case "devices":
      return devicesCommand(rest);
    case "status":
      return statusCommand(rest);
    default:
      throw new UsageError(
        `Unknown command \`${command}\`.${didYouMean(command, commands)} See \`flyte-ts --help\`.`,
      );
  }
}

/**
 * Runs the command line `argv` (the words after `flyte-ts`) and resolves with the exit status:
 * 0 done, 1 the task failed, 2 the command line was wrong, 130 the run was interrupted (143 on
 * SIGTERM, 129 on SIGHUP).
 * Outputs go to stdout, messages and errors to stderr.
 *
 * @example
 * ```ts
 * process.exitCode = await main(["run", "examples/quickstart.ts", "main", "--n", "10"]);
 * ```
 */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  try {
    return await dispatch(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`flyte-ts: ${error.message}`);
      return ExitCode.usage;
    }
    console.error(knownSecrets.maskText(`flyte-ts failed:\n${formatError(error, true)}`));
    return ExitCode.failed;
  }
}
