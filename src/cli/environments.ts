/**
 * The environments a module offers, in deploy order: its exported environments and the
 * environments of its exported tasks, each after the environments it `dependsOn`
 * (depth-first, dependencies first, each name once, as upstream's deploy plan).
 * @module
 */
import { isTask } from "../api/task.js";
import { Environment, TaskEnvironment } from "../api/task-environment.js";
import { UsageError } from "./usage.js";

/**
 * The module's environments in `dependsOn` order; with `only`, that environment and its
 * dependencies.
 * @throws UsageError when the module has no environments, or none called `only`
 */
export function environmentsIn(
  namespace: Readonly<Record<string, unknown>>,
  file: string,
  only?: string,
): Environment[] {
  const roots: Environment[] = [];
  for (const value of Object.values(namespace)) {
    if (value instanceof Environment) roots.push(value);
    else if (isTask(value) && value.environment instanceof Environment) {
      roots.push(value.environment);
    }
  }
  if (roots.length === 0) {
    throw new UsageError(
      `${file} exports no environments or tasks. Export them, e.g. \`export const env = new flyte.TaskEnvironment({ name: "app" });\`.`,
    );
  }
  const picked = only === undefined ? roots : roots.filter((env) => env.name === only);
  if (picked.length === 0) {
    const names = [...new Set(roots.map((env) => env.name))].join(", ");
    throw new UsageError(`${file} has no environment "${only}". It has: ${names}.`);
  }
  const ordered = new Map<string, Environment>();
  const visit = (env: Environment, path: readonly string[]) => {
    if (ordered.has(env.name) || path.includes(env.name)) return;
    for (const dep of env.dependsOn) visit(dep, [...path, env.name]);
    ordered.set(env.name, env);
  };
  for (const env of picked) visit(env, []);
  return [...ordered.values()];
}

/** Only the environments that have tasks. */
export function taskEnvironments(envs: readonly Environment[]): TaskEnvironment[] {
  return envs.filter((env): env is TaskEnvironment => env instanceof TaskEnvironment);
}
