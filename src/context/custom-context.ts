/**
 * Scoped custom context: `flyte.customContext(values, fn)` (upstream's
 * `with flyte.custom_context(**values):`) and `flyte.getCustomContext()`.
 * @module
 */
import { describe } from "../internal/problems.js";
import { currentFrame, runInFrame, withContext } from "./context.js";

/**
 * Runs `fn` with `values` merged into the task's custom context: task calls made inside it (and
 * everything they call in turn) see the merged pairs in `flyte.ctx().customContext`, and so does
 * `fn` itself. The task's own context is unchanged after `fn`. The pairs are not part of cache
 * keys or action ids. Outside a task it simply calls `fn` (as upstream).
 *
 * @throws TypeError when a value is not a string
 * @example
 * ```ts
 * export const main = env.task(async function main() {
 *   return flyte.customContext({ project: "p1" }, () => report());   // report sees { project: "p1", ... }
 * });
 * ```
 */
export function customContext<T>(values: Readonly<Record<string, string>>, fn: () => T): T {
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new TypeError(
      `Expected the values of flyte.customContext to be an object of strings, got ${describe(values)}.`,
    );
  }
  for (const [key, value] of Object.entries(values)) {
    if (typeof value !== "string") {
      throw new TypeError(
        `Expected custom context value \`${key}\` to be a string, got ${describe(value)}. Convert it with String(...).`,
      );
    }
  }
  if (typeof fn !== "function") {
    throw new TypeError(`Expected the second argument of flyte.customContext to be a function.`);
  }
  const frame = currentFrame();
  if (frame === undefined) return fn();
  const merged = Object.freeze({ ...frame.context.customContext, ...values });
  return runInFrame(
    { ...frame, context: withContext(frame.context, { customContext: merged }) },
    fn,
  );
}

/**
 * The custom context of the task running now (`withRunContext({ customContext })` merged with
 * the enclosing `flyte.customContext` blocks of its callers), or `{}` outside a task.
 *
 * @example
 * ```ts
 * const { project } = flyte.getCustomContext();
 * ```
 */
export function getCustomContext(): Readonly<Record<string, string>> {
  return currentFrame()?.context.customContext ?? {};
}

/** The same text for the same pairs, whatever their order. */
function contextKey(values: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The custom contexts of a run's actions called inside `flyte.customContext`: one object per
 * distinct context (the run's own when equal), so workers are told each context once.
 */
export class CustomContexts {
  readonly #byAction = new Map<string, Readonly<Record<string, string>>>();
  readonly #distinct = new Map<string, Readonly<Record<string, string>>>();

  constructor(runContext: Readonly<Record<string, string>>) {
    this.#distinct.set(contextKey(runContext), runContext);
  }

  /** Records action `id`'s context. */
  set(id: string, values: Readonly<Record<string, string>>): void {
    const key = contextKey(values);
    let context = this.#distinct.get(key);
    if (context === undefined) {
      context = Object.freeze({ ...values });
      this.#distinct.set(key, context);
    }
    this.#byAction.set(id, context);
  }

  /** Action `id`'s context, or `undefined` for the run's own. */
  get(id: string): Readonly<Record<string, string>> | undefined {
    return this.#byAction.get(id);
  }

  delete(id: string): void {
    this.#byAction.delete(id);
  }
}
