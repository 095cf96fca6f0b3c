/**
 * Binds `--param value` flags to a task's parameters, by the names read from its function.
 * @module
 */
import type { AnyTask } from "../api/task.js";
import type { Parameter } from "../internal/parameters.js";
import { type Flag, parseFlagValue } from "./flags.js";
import { UsageError } from "./usage.js";

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The parameter a flag names: exactly (`--learningRate`), or in kebab case (`--learning-rate`). */
export function matchParameter(
  parameters: readonly Parameter[],
  flagName: string,
): Parameter | undefined {
  return (
    parameters.find((p) => p.name === flagName) ??
    parameters.find((p) => p.name === camelCase(flagName))
  );
}

/** A listing of the task's parameters, saying which are optional and their defaults. */
export function describeParameters(task: AnyTask): string {
  if (task.parameters.length === 0) return `Task \`${task.name}\` takes no parameters.`;
  const width = Math.max(...task.parameters.map((p) => p.name.length)) + 2;
  const lines = task.parameters.map((p) => {
    const what = p.rest
      ? "optional, rest (a JSON array spreads into it)"
      : p.optional
        ? `optional${p.defaultSource === undefined ? "" : `, default ${p.defaultSource}`}`
        : "required";
    return `  --${p.name.padEnd(width)}${what}`;
  });
  return `Parameters of task \`${task.name}\`:\n${lines.join("\n")}`;
}

/**
 * The argument list for calling `task` with `flags`: each value at its parameter's position,
 * `undefined` for an optional parameter not given (so its default applies), a rest parameter's
 * JSON array spread at the end.
 * @throws UsageError listing every unknown, repeated or missing parameter, and the task's parameters.
 */
export function bindArguments(task: AnyTask, flags: readonly Flag[]): unknown[] {
  const problems: string[] = [];
  const values = new Map<string, unknown>();
  for (const flag of flags) {
    const parameter = matchParameter(task.parameters, flag.name);
    if (parameter === undefined) problems.push(`unknown parameter --${flag.name}`);
    else if (values.has(parameter.name)) problems.push(`--${flag.name} is given more than once`);
    else values.set(parameter.name, parseFlagValue(flag.value));
  }
  for (const parameter of task.parameters) {
    if (!parameter.optional && !values.has(parameter.name)) {
      problems.push(`missing required parameter --${parameter.name}`);
    }
  }
  if (problems.length > 0) {
    throw new UsageError(
      `Cannot call task \`${task.name}\` with these flags:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        describeParameters(task),
    );
  }
  const args: unknown[] = [];
  task.parameters.forEach((parameter, index) => {
    const value = values.get(parameter.name);
    if (!parameter.rest) args[index] = value;
    else if (Array.isArray(value)) args.push(...value);
    else if (value !== undefined) args.push(value);
  });
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  return args;
}
