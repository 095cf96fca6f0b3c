/**
 * Finds the task a command line names among a module's exports.
 * @module
 */
import { type AnyTask, isTask } from "../api/task.js";
import { TaskEnvironment } from "../api/task-environment.js";
import { parameterLines } from "./bind-parameters.js";
import { didYouMean } from "./did-you-mean.js";
import { signatureOf } from "./task-signature.js";
import { UsageError } from "./usage.js";

/** A task a module offers: exported under `exportName`, or reachable through an exported environment. */
export interface Offered {
  readonly task: AnyTask;
  readonly exportName: string | undefined;
}

/** The module's tasks: its exported tasks, then the other tasks of its exported environments. */
export function offeredTasks(namespace: Readonly<Record<string, unknown>>): Offered[] {
  const offered = new Map<AnyTask, Offered>();
  for (const [exportName, value] of Object.entries(namespace)) {
    if (isTask(value) && !offered.has(value)) offered.set(value, { task: value, exportName });
  }
  for (const value of Object.values(namespace)) {
    if (!(value instanceof TaskEnvironment)) continue;
    for (const task of value.tasks.values()) {
      if (!offered.has(task)) offered.set(task, { task, exportName: undefined });
    }
  }
  return [...offered.values()];
}

function listing(tasks: readonly Offered[]): string {
  const label = (o: Offered) => o.exportName ?? o.task.shortName;
  const width = Math.max(...tasks.map((o) => label(o).length)) + 2;
  return tasks
    .map((o) => {
      const parameters = o.task.parameters.map(
        (p) => `${p.rest ? "..." : ""}${p.name}${p.optional ? "?" : ""}`,
      );
      return `  ${label(o).padEnd(width)}${o.task.name}(${parameters.join(", ")})`;
    })
    .join("\n");
}

/**
 * The task called `query` in the module: by export name, then full name (`"<env>.<fn>"`), then
 * function name (`shortName`).
 * @throws UsageError when no task, or more than one, answers to `query`, listing the module's tasks.
 */
export function findTask(
  namespace: Readonly<Record<string, unknown>>,
  query: string,
  file: string,
): AnyTask {
  const tasks = offeredTasks(namespace);
  if (tasks.length === 0) {
    throw new UsageError(
      `${file} defines no tasks. Export the tasks you want to run, e.g. \`export const main = env.task(async function main() { ... });\`.`,
    );
  }
  const exact =
    tasks.find((o) => o.exportName === query) ?? tasks.find((o) => o.task.name === query);
  if (exact !== undefined) return exact.task;
  const byShortName = tasks.filter((o) => o.task.shortName === query);
  if (byShortName.length === 1) return (byShortName[0] as Offered).task;
  if (byShortName.length > 1) {
    throw new UsageError(
      `More than one task in ${file} is called \`${query}\`; name it by its full name:\n${listing(byShortName)}`,
    );
  }
  const names = tasks.flatMap((o) => [o.exportName ?? o.task.shortName, o.task.name]);
  throw new UsageError(
    `No task \`${query}\` in ${file}.${didYouMean(query, names)} Its tasks are:\n${listing(tasks)}`,
  );
}

/**
 * `flyte-ts run <file> --help`: every task the module offers, with its parameters, their types
 * and defaults.
 */
export function describeTasks(namespace: Readonly<Record<string, unknown>>, file: string): string {
  const tasks = offeredTasks(namespace);
  if (tasks.length === 0) return `${file} defines no tasks.\n`;
  const blocks = tasks.map((o) => {
    const label = o.exportName ?? o.task.shortName;
    const docs = o.task.docs === undefined ? "" : ` — ${o.task.docs.split("\n")[0]}`;
    const parameters = signatureOf(o.task);
    const lines =
      parameters.length === 0 ? ["    (no parameters)"] : parameterLines(parameters, "    ");
    return `  ${label} (${o.task.name})${docs}\n${lines.join("\n")}`;
  });
  return (
    `Tasks in ${file}:\n\n${blocks.join("\n\n")}\n\n` +
    `Run one with \`flyte-ts run ${file} <task> [--param value ...]\`; ` +
    `\`flyte-ts run ${file} <task> --help\` shows one task.\n`
  );
}
