/**
 * `flyte.main(import.meta, fn)`: runs `fn` only when the module is the program's entry point,
 * like Python's `if __name__ == "__main__":`.
 * @module
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RunCancelledError } from "../errors.js";
import { activeRunNames, cancelActiveRuns } from "./active-runs.js";

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Whether the module at `moduleUrl` is the script Node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined || !moduleUrl.startsWith("file:")) return false;
  const modulePath = realPath(fileURLToPath(moduleUrl));
  const scriptPath = realPath(script);
  return modulePath === scriptPath || modulePath.replace(/\.[cm]?[jt]s$/, "") === scriptPath;
}

/** Exit status of a program interrupted by Ctrl-C (128 + SIGINT), as a shell reports it. */
const interruptedExitCode = 130;

/**
 * While `fn` runs, Ctrl-C cancels the program's runs (they are recorded as cancelled and their
 * workers stopped) instead of killing the process mid-write; a second Ctrl-C exits at once.
 * Returns the function that removes the handler.
 */
function cancelRunsOnInterrupt(): () => void {
  let interrupted = false;
  const onInterrupt = () => {
    const names = activeRunNames();
    if (interrupted || names.length === 0) {
      process.exit(interruptedExitCode);
    }
    interrupted = true;
    process.exitCode = interruptedExitCode;
    const which = names.map((n) => `"${n}"`).join(", ");
    process.stderr.write(
      `\nInterrupted (Ctrl-C): cancelling run${names.length === 1 ? "" : "s"} ${which}… (Ctrl-C again to exit at once)\n`,
    );
    cancelActiveRuns("cancelled by Ctrl-C (SIGINT)");
  };
  process.on("SIGINT", onInterrupt);
  return () => process.removeListener("SIGINT", onInterrupt);
}

/**
 * Runs `fn` when this module is the program's entry point (not when it is imported by a worker,
 * a test or the CLI). A rejection is printed and sets the exit code to 1. While `fn` runs,
 * Ctrl-C cancels its runs: each is recorded as cancelled, the program says so and exits with
 * status 130.
 *
 * @example
 * ```ts
 * flyte.main(import.meta, async () => {
 *   const run = await flyte.run(main, 10);
 *   console.log(await run.outputs());
 * });
 * ```
 */
export function main(meta: ImportMeta, fn: () => unknown): void {
  if (!isEntryPoint(meta.url)) return;
  const stopHandling = cancelRunsOnInterrupt();
  Promise.resolve()
    .then(fn)
    .catch((error: unknown) => {
      if (error instanceof RunCancelledError) {
        console.error(error.message);
        process.exitCode = interruptedExitCode;
        return;
      }
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exitCode = 1;
    })
    .finally(stopHandling);
}
