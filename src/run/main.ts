/**
 * `flyte.main(import.meta, fn)`: runs `fn` only when the module is the program's entry point,
 * like Python's `if __name__ == "__main__":`.
 * @module
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

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

/**
 * Runs `fn` when this module is the program's entry point (not when it is imported by a worker,
 * a test or the CLI). A rejection is printed and sets the exit code to 1.
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
  Promise.resolve()
    .then(fn)
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exitCode = 1;
    });
}
