/**
 * `flyte.group(name, fn)`: names a block of calls so that their actions are grouped.
 * @module
 */
import { currentFrame, runInFrame, withContext } from "./context.js";

/**
 * Runs `fn` with every task call it makes grouped under `name`. The group name is part of the
 * sub-actions' ids and shows in the run record and the live view. Groups do not nest (an inner
 * group replaces the outer name, as upstream) and are not inherited by the called tasks' own
 * calls. Outside a task it simply calls `fn`.
 *
 * @example
 * ```ts
 * const total = await flyte.group("sum", async () => {
 *   const parts = await Promise.all(xs.map((x) => square(x)));
 *   return parts.reduce((a, b) => a + b, 0);
 * });
 * ```
 */
export function group<T>(name: string, fn: () => T): T {
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(
      `Expected \`name\` of flyte.group to be a non-empty string, got ${String(name)}.`,
    );
  }
  const frame = currentFrame();
  if (frame === undefined) return fn();
  return runInFrame({ ...frame, context: withContext(frame.context, { group: name }) }, fn);
}
