/**
 * Warnings that must not flood the terminal: each distinct message is printed once per process.
 * @module
 */

import { knownSecrets } from "./secret-mask.js";

const seen = new Set<string>();

/**
 * Prints `message` to stderr (prefixed `flyte-ts:`, known secret values masked) the first time it
 * is seen in this process.
 */
export function warnOnce(message: string): void {
  if (seen.has(message)) return;
  seen.add(message);
  warn(message);
}

/** Prints `message` to stderr (prefixed `flyte-ts:`, known secret values masked). */
export function warn(message: string): void {
  process.stderr.write(`flyte-ts: ${knownSecrets.maskText(message)}\n`);
}
