/**
 * Finds the code that called into flyte-ts: the module (so a worker can later import the module
 * where a task was defined) and the position of the call (so the cache can read the task's
 * function as written).
 * @module
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { sourceUrlOf } from "./compiled-modules.js";

const ownDirectory = fileURLToPath(new URL("..", import.meta.url));

/** Where a call was made, in the code as it ran (after any transform such as tsx's). */
export interface CallLocation {
  /** The module's file URL. */
  readonly url: string;
  /** The file name as the stack reports it (a path or a URL): the key of its source map. */
  readonly file: string;
  /** 1-based line of the call in the code that ran. */
  readonly line: number;
  /** 1-based column of the call in the code that ran. */
  readonly column: number;
}

/**
 * The first stack frame outside flyte-ts's own sources, or `undefined` when it cannot be told
 * (for instance code evaluated from a string).
 */
export function callerLocation(): CallLocation | undefined {
  const original = Error.prepareStackTrace;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    Error.prepareStackTrace = (_error, callSites) => callSites;
    Error.captureStackTrace(holder, callerLocation);
    for (const site of holder.stack ?? []) {
      const file = site.getFileName();
      if (!file || file.startsWith("node:")) continue;
      const path = file.startsWith("file://") ? fileURLToPath(file) : file;
      if (path.startsWith(ownDirectory)) continue;
      return {
        // A compiled TypeScript module is named by its source; `file` keeps its source map.
        url: sourceUrlOf(file.startsWith("file://") ? file : pathToFileURL(file).href),
        file,
        line: site.getLineNumber() ?? 0,
        column: site.getColumnNumber() ?? 0,
      };
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
}

/**
 * The file URL of the first stack frame outside flyte-ts's own sources, or `undefined` when it
 * cannot be told.
 */
export function callerModuleUrl(): string | undefined {
  return callerLocation()?.url;
}
