/**
 * The inputs of one call: hashed canonically (for action ids and cache keys) with errors that name
 * the parameter that could not be hashed.
 * @module
 */

import { RuntimeDataValidationError } from "../errors.js";
import type { Parameter } from "../internal/parameters.js";
import { canonicalHash } from "./canonical.js";

/** What {@link hashInputs} needs to know of a task. */
export interface InputsOwner {
  readonly name: string;
  readonly parameters: readonly Parameter[];
}

/** Drops trailing `undefined` arguments: `f(3)` and `f(3, undefined)` are the same call. */
export function trimArgs(args: readonly unknown[]): readonly unknown[] {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  return end === args.length ? args : args.slice(0, end);
}

/** The parameter name of argument `index`, for messages. */
export function parameterName(owner: InputsOwner, index: number): string {
  const last = owner.parameters[owner.parameters.length - 1];
  if (index >= owner.parameters.length && last?.rest)
    return `${last.name}[${index - owner.parameters.length + 1}]`;
  return owner.parameters[index]?.name ?? `argument ${index}`;
}

/**
 * The canonical hash of a call's arguments.
 * @throws RuntimeDataValidationError naming the parameter whose value cannot be hashed.
 */
export function hashInputs(owner: InputsOwner, args: readonly unknown[]): string {
  const trimmed = trimArgs(args);
  try {
    return canonicalHash(trimmed);
  } catch (error) {
    const index = trimmed.findIndex((arg) => {
      try {
        canonicalHash(arg);
        return false;
      } catch {
        return true;
      }
    });
    const reason = error instanceof Error ? error.message : String(error);
    throw new RuntimeDataValidationError(
      `Input \`${parameterName(owner, Math.max(index, 0))}\` of task \`${owner.name}\` cannot be passed to a sub-action: ${reason} ` +
        "Pass plain data (objects, arrays, Map, Set, Date, BigInt, typed arrays, Buffer), or run the code inside the task.",
      { cause: error },
    );
  }
}
