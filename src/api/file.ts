/**
 * `flyte.File`: a file on this host passed as a task input. It is plain data (`{ kind, path }`),
 * so it crosses to children, threads and processes unchanged; the cache key uses the file's
 * *content* (its SHA-256, streamed), not its path or timestamps.
 * @module
 */
import { localPaths } from "./local-path.js";

/** The `kind` that marks a {@link File}. */
export const FILE_KIND = "flyte.File";

/**
 * A reference to a local file, hashed by content in cache keys. Create one with
 * {@link File.fromLocal}; read it with `fs` at `file.path`.
 *
 * @example
 * ```ts
 * const count = env.task(async function count(data: flyte.File) {
 *   return (await readFile(data.path, "utf8")).split("\n").length;
 * });
 * await flyte.run(count, flyte.File.fromLocal("data/train.csv"));
 * ```
 */
export interface File {
  readonly kind: typeof FILE_KIND;
  /** The file's absolute path. */
  readonly path: string;
}

const filePaths = localPaths(FILE_KIND);

/** Makes {@link File} references. */
export const File = {
  /**
   * A reference to the file at `path` (made absolute against the working directory). The file
   * is read when a cache key or action id needs its digest, not here.
   */
  fromLocal: (path: string): File => filePaths.fromLocal(path),
  /** Whether `value` is a {@link File} reference (also one that was copied or deserialised). */
  is: (value: unknown): value is File => filePaths.is(value),
} as const;
