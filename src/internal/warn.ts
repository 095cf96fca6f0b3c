/**
 * Warnings that must not flood the terminal: each distinct message is printed once per process.
 * @module
 */

const seen = new Set<string>();

/** Prints `message` to stderr (prefixed `flyte-ts:`) the first time it is seen in this process. */
export function warnOnce(message: string): void {
  if (seen.has(message)) return;
  seen.add(message);
  process.stderr.write(`flyte-ts: ${message}\n`);
}
