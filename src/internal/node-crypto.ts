/**
 * `node:crypto`, loaded on first use: a worker whose tasks hash nothing (most leaf tasks) never
 * loads it, which takes 3–4 ms of a worker's start. The controller loads it with its first run.
 * @module
 */
import { createRequire } from "node:module";

type Crypto = typeof import("node:crypto");

let loaded: Crypto | undefined;

/** The `node:crypto` module. */
export function nodeCrypto(): Crypto {
  loaded ??= createRequire(import.meta.url)("node:crypto") as Crypto;
  return loaded;
}
