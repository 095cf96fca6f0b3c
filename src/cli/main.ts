/**
 * The `flyte-ts` command: picks the subcommand and turns its outcome into an exit status.
 * `bin/flyte-ts.js` calls {@link main}; importing this module starts nothing.
 * @module
 */
import { discardSpareThread, startSpareThread } from "../execution/spare-thread.js";
import { workerEntryUrl } from "../execution/worker-handle.js";
import { knownSecrets } from "../internal/secret-mask.js";
import { version } from "../version.js";
import { didYouMean } from "./did-you-mean.js";
import { formatError } from "./print.js";
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
    // Each command's module is imported when it is the one asked for: a `flyte-ts run` does not
    // pay for loading `deploy`'s Kubernetes client or `cache`'s admin code (cold start).
    case "run":
      // The run's first worker thread boots while this thread loads the command and the
      // program; a run that needs no such thread leaves it unused, and it stops here.
      if (!rest.includes("--help") && !rest.includes("-h")) startSpareThread(workerEntryUrl);
      try {
        return await (await import("./run.js")).runCommand(rest);
      } finally {
        discardSpareThread();
      }
    case "cache":
      return (await import("./cache.js")).cacheCommand(rest);
    case "runs":
      return rest[0] === "logs"
        ? (await import("./runs-logs.js")).runsLogsCommand(rest.slice(1))
        : (await import("./runs.js")).runsCommand(rest);
    case "execute":
      return (await import("./execute.js")).executeCommand(rest);
    case "build":
      return (await import("./build.js")).buildCommand(rest);
    case "deploy":
      return (await import("./deploy.js")).deployCommand(rest);
    case "devices":
      return (await import("./devices.js")).devicesCommand(rest);
    case "status":
      return (await import("./status.js")).statusCommand(rest);
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
