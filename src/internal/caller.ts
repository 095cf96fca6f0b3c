/**
 * Finds the module that called into flyte-ts, so a worker can later import the module where a
 * task was defined.
 * @module
 */
import { fileURLToPath, pathToFileURL } from "node:url";

const ownDirectory = fileURLToPath(new URL("..", import.meta.url));

/**
 * The file URL of the first stack frame outside flyte-ts's own sources, or `undefined` when it
 * cannot be told (for instance code evaluated from a string).
 */
export function callerModuleUrl(): string | undefined {
  const original = Error.prepareStackTrace;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    Error.prepareStackTrace = (_error, callSites) => callSites;
    Error.captureStackTrace(holder, callerModuleUrl);
    for (const site of holder.stack ?? []) {
      const file = site.getFileName();
      if (!file || file.startsWith("node:")) continue;
      const path = file.startsWith("file://") ? fileURLToPath(file) : file;
      if (path.startsWith(ownDirectory)) continue;
      return file.startsWith("file://") ? file : pathToFileURL(file).href;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
}
