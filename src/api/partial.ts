/**
 * A task with some arguments fixed by name, for `flyte.map` (upstream maps over
 * `functools.partial(task, **fixed)`): {@link PartialTask}, made by `task.partial({...})`.
 * @module
 */
import { describe, Problems } from "../internal/problems.js";
import type { Task } from "./task.js";

/**
 * A task with some arguments fixed by name and one parameter left for the caller. Calling it, or
 * mapping it with `flyte.map`, calls the task itself with every argument in place, so each call
 * is a plain action of the task: same name, same cache key, same record as a direct call.
 *
 * @example
 * ```ts
 * const scale = env.task(async function scale(x: number, factor: number) { return x * factor; });
 * await flyte.map(scale.partial({ factor: 2 }), [1, 2, 3]);   // [2, 4, 6]
 * ```
 */
export interface PartialTask<A extends unknown[] = never, R = unknown> {
  /** Calls the task with the fixed arguments and `item` in the parameter left free. */
  (item: unknown): Promise<Awaited<R>>;
  /** The task being called. */
  readonly task: Task<A, R>;
  /** The fixed arguments, by parameter name. */
  readonly bound: Readonly<Record<string, unknown>>;
  /** The name of the parameter each item fills. */
  readonly parameter: string;
  /** The task's full argument list for one item. */
  argsFor(item: unknown): unknown[];
}

const partialMarker = Symbol.for("flyte-ts.partial.v1");

/** Whether `value` was made by `task.partial(...)`. */
export function isPartialTask(value: unknown): value is PartialTask<never, unknown> {
  return (
    typeof value === "function" && (value as { [partialMarker]?: true })[partialMarker] === true
  );
}

/**
 * Fixes the arguments named in `bound` of `task`. The first parameter not named is the one each
 * item fills; every other parameter must be named, or have a default (it keeps it).
 *
 * @throws InvalidConfigError naming an unknown parameter, a rest parameter, or the parameters
 *   left without a value
 */
export function partialOf<A extends unknown[], R>(
  task: Task<A, R>,
  bound: Readonly<Record<string, unknown>>,
): PartialTask<A, R> {
  const problems = new Problems(`partial of task \`${task.name}\``);
  if (typeof bound !== "object" || bound === null || Array.isArray(bound)) {
    problems.add(
      "",
      `Expected the fixed arguments by parameter name, such as { factor: 2 }, got ${describe(bound)}.`,
    );
    problems.throwIfAny();
  }
  const names = task.parameters.map((p) => p.name);
  const list = names.map((n) => `\`${n}\``).join(", ") || "none";
  for (const key of Object.keys(bound)) {
    if (!names.includes(key)) {
      problems.add(
        key,
        `Task \`${task.name}\` has no parameter \`${key}\`; its parameters: ${list}.`,
      );
    }
  }
  if (task.parameters.some((p) => p.rest)) {
    problems.add(
      "",
      `Task \`${task.name}\` has a rest parameter, which cannot be fixed by name. Map it with argument lists instead.`,
    );
  }
  const free = task.parameters.filter((p) => !Object.hasOwn(bound, p.name));
  const [item, ...others] = free;
  if (item === undefined) {
    problems.add(
      "",
      `Every parameter of task \`${task.name}\` is fixed, so there is none left for the mapped items. Leave one out.`,
    );
  }
  const unset = others.filter((p) => !p.optional).map((p) => `\`${p.name}\``);
  if (unset.length > 0) {
    problems.add(
      "",
      `Task \`${task.name}\` would get the items in \`${item?.name}\` and nothing in ${unset.join(", ")}: a map fills one parameter. Fix all the others by name (parameters with defaults may stay free).`,
    );
  }
  problems.throwIfAny();
  const fixed = Object.freeze({ ...bound });
  const argsFor = (value: unknown): unknown[] =>
    task.parameters.map((p) => (p === item ? value : fixed[p.name]));
  const call = (value: unknown) =>
    (task as unknown as (...args: unknown[]) => Promise<Awaited<R>>)(...argsFor(value));
  return Object.defineProperties(call, {
    [partialMarker]: { value: true },
    task: { value: task, enumerable: true },
    bound: { value: fixed, enumerable: true },
    parameter: { value: item?.name, enumerable: true },
    argsFor: { value: argsFor },
    toString: { value: () => `PartialTask(${task.name}, ${Object.keys(fixed).join(", ")})` },
  }) as unknown as PartialTask<A, R>;
}
