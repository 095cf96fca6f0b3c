/**
 * `flyte.Dir`: a directory on this host passed as a task input, as upstream's `flyte.io.Dir`.
 * Like {@link File} it is plain data (`{ kind, path }`), so it crosses to children, threads,
 * processes and offloaded jobs unchanged; the cache key uses the *content* of every file under
 * it, not its path or timestamps.
 * @module
 */

import type { File } from "./file.js";
import { localPaths } from "./local-path.js";

/** The `kind` that marks a {@link Dir}. */
export const DIR_KIND = "flyte.Dir";

/**
 * A reference to a local directory, keyed by content in cache keys: the sorted relative paths
 * of everything under it, with each file's SHA-256 (the same per-file digest memo as
 * {@link File}, so an unchanged file is never read twice). Symbolic links are followed (a link
 * counts as what it points to); empty directories count (adding one changes the key). Create
 * one with {@link Dir.fromLocal}; read it with `fs` under `dir.path`.
 *
 * @example
 * ```ts
 * const train = env.task({ cache: "auto" }, async function train(data: flyte.Dir) {
 *   return (await readdir(data.path)).length; // runs again only when a file under it changes
 * });
 * await flyte.run(train, flyte.Dir.fromLocal("data/images"));
 * ```
 */
export interface Dir {
  readonly kind: typeof DIR_KIND;
  /** The directory's absolute path. */
  readonly path: string;
}

const directoryPaths = localPaths(DIR_KIND);

/** Makes {@link Dir} references. */
export const Dir = {
  /**
   * A reference to the directory at `path` (made absolute against the working directory). The
   * directory is walked when a cache key or action id needs its digest, not here; a path that
   * is not a directory is reported then.
   */
  fromLocal: (path: string): Dir => directoryPaths.fromLocal(path),
  /** Whether `value` is a {@link Dir} reference (also one that was copied or deserialised). */
  is: (value: unknown): value is Dir => directoryPaths.is(value),
} as const;
