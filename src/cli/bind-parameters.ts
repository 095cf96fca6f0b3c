/**
 * Binds `--param value` flags to a task's parameters, by the names read from its function, and
 * checks each value against the parameter's type (`task-signature.ts`).
 * @module
 */
import type { AnyTask } from "../api/task.js";
import type { Parameter } from "../internal/parameters.js";
import { coerceText } from "./coerce-value.js";
import { didYouMean } from "./did-you-mean.js";
import type { Flag } from "./flags.js";
import { acceptsBareFlag, describeType } from "./parameter-types.js";
import { signatureOf, type TypedParameter } from "./task-signature.js";
import { UsageError } from "./usage.js";

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The flag people type for a parameter: `learningRate` → `learning-rate` (when it reads back). */
export function flagName(name: string): string {
  const kebab = name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  return camelCase(kebab) === name ? kebab : name;
}

/** The parameter a flag names: exactly (`--learningRate`), or in kebab case (`--learning-rate`). */
export function matchParameter<P extends Parameter>(
  parameters: readonly P[],
  flagName: string,
): P | undefined {
  return (
    parameters.find((p) => p.name === flagName) ??
    parameters.find((p) => p.name === camelCase(flagName))
  );
}

/** A parameter's type for people: the annotation's meaning, `any` when nothing says. */
export function typeLabel(parameter: TypedParameter): string {
  if (parameter.type === undefined) return "any";
  return describeType(parameter.type);
}

/** The parameter lines of a listing: `--lr  number  required`, aligned, indented by `indent`. */
export function parameterLines(parameters: readonly TypedParameter[], indent = "  "): string[] {
  const names = parameters.map((p) => `--${flagName(p.name)}`);
  const types = parameters.map(typeLabel);
  const nameWidth = Math.max(...names.map((n) => n.length)) + 2;
  const typeWidth = Math.max(...types.map((t) => t.length)) + 2;
  return parameters.map((p, i) => {
    const what = p.rest
      ? "optional, rest (a JSON array spreads into it)"
      : p.optional
        ? p.defaultSource === undefined
          ? "optional"
          : `default ${p.defaultSource}`
        : "required";
    return `${indent}${(names[i] as string).padEnd(nameWidth)}${(types[i] as string).padEnd(typeWidth)}${what}`;
  });
}

/** A listing of the task's parameters: flag, type, and whether required or its default. */
export function describeParameters(task: AnyTask): string {
  const parameters = signatureOf(task);
  if (parameters.length === 0) return `Task \`${task.name}\` takes no parameters.`;
  return `Parameters of task \`${task.name}\`:\n${parameterLines(parameters).join("\n")}`;
}

/** One flag's value for its parameter, or what is wrong with it. */
function flagValue(
  parameter: TypedParameter,
  flag: Flag,
): { value: unknown } | { problem: string } {
  const type = parameter.type;
  if (flag.value === true) {
    if (type === undefined || acceptsBareFlag(type)) return { value: true };
    return {
      problem: `--${flag.name} needs a value: ${describeType(type)} (a flag with no value is only for booleans)`,
    };
  }
  // A rest parameter takes a JSON array of its elements, or one element.
  const checked =
    type?.kind === "array" && parameter.rest
      ? coerceText({ kind: "union", members: [type, type.element] }, flag.value)
      : type === undefined
        ? coerceText({ kind: "json", text: "unknown" }, flag.value)
        : coerceText(type, flag.value);
  if (checked.ok) return { value: checked.value };
  return { problem: `--${flag.name} ${checked.problem}` };
}

/**
 * The argument list for calling `task` with `flags`: each value checked against its parameter's
 * type and put at its position, `undefined` for an optional parameter not given (so its default
 * applies), a rest parameter's JSON array spread at the end.
 * @param otherFlags - flags the command itself knows (suggested for a mistyped flag)
 * @throws UsageError listing every unknown, repeated, missing or ill-typed parameter, and the
 *   task's parameters with their types.
 */
export function bindArguments(
  task: AnyTask,
  flags: readonly Flag[],
  otherFlags: readonly string[] = [],
): unknown[] {
  const parameters = signatureOf(task);
  const problems: string[] = [];
  const values = new Map<string, unknown>();
  const known = [...parameters.map((p) => flagName(p.name)), ...otherFlags];
  const given = new Set<string>();
  for (const flag of flags) {
    const parameter = matchParameter(parameters, flag.name);
    if (parameter === undefined) {
      problems.push(`unknown parameter --${flag.name}.${didYouMean(flag.name, known, "--")}`);
      continue;
    }
    if (given.has(parameter.name)) {
      problems.push(`--${flag.name} is given more than once`);
      continue;
    }
    given.add(parameter.name);
    const bound = flagValue(parameter, flag);
    if ("problem" in bound) problems.push(bound.problem);
    else values.set(parameter.name, bound.value);
  }
  for (const parameter of parameters) {
    if (!parameter.optional && !given.has(parameter.name)) {
      problems.push(
        `missing required parameter --${flagName(parameter.name)} (${typeLabel(parameter)})`,
      );
    }
  }
  if (problems.length > 0) {
    throw new UsageError(
      `Cannot call task \`${task.name}\` with these flags:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        describeParameters(task),
    );
  }
  const args: unknown[] = [];
  parameters.forEach((parameter, index) => {
    const value = values.get(parameter.name);
    if (!parameter.rest) args[index] = value;
    else if (Array.isArray(value)) args.push(...value);
    else if (value !== undefined) args.push(value);
  });
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  return args;
}
