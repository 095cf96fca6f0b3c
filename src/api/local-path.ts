/**
 * What `flyte.File` and `flyte.Dir` share: a reference to a path on this host, plain data
 * (`{ kind, path }`) marked by its kind, made absolute when it is made.
 * @module
 */
import { resolve } from "node:path";
import { describe } from "../internal/problems.js";

/** A reference to a local path, marked `kind`. */
export interface LocalPath<K extends string> {
  readonly kind: K;
  /** The absolute path. */
  readonly path: string;
}

/** Makes and recognises references marked `kind`. */
export function localPaths<K extends string>(kind: K) {
  return {
    /** A frozen reference to `path`, made absolute against the working directory. */
    fromLocal(path: string): LocalPath<K> {
      if (typeof path !== "string" || path === "") {
        throw new TypeError(`Expected \`path\` to be a non-empty string, got ${describe(path)}.`);
      }
      return Object.freeze({ kind, path: resolve(path) });
    },
    /** Whether `value` is such a reference (also one that was copied or deserialised). */
    is(value: unknown): value is LocalPath<K> {
      return (
        typeof value === "object" &&
        value !== null &&
        (value as { kind?: unknown }).kind === kind &&
        typeof (value as { path?: unknown }).path === "string" &&
        Object.keys(value).length === 2
      );
    },
  };
}
