/**
 * `flyte-ts runs logs <run> [<action>]`: prints what a run's tasks wrote to stdout and stderr.
 * @module
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type LogEntry, readLogs } from "../record/logs.js";
import { loadRun } from "../record/run-history.js";
import { RunStore } from "../record/run-store.js";
import { didYouMean } from "./did-you-mean.js";
import { readFlags } from "./flags.js";
import { ExitCode, UsageError } from "./usage.js";

/** `flyte-ts runs logs --help`. */
export const runsLogsHelp = `Usage: flyte-ts runs logs [--cache-dir <dir>] <run> [<action>]

Prints what the tasks of run <run> wrote to stdout and stderr, in the order written. With no
<action>, every line is prefixed by its task and action id ("[square a1b2c3] ..."); with an
action id ("a0" is the root), that action's output is printed as it was written.

Options:
  --cache-dir <dir>  the .flyte folder   default: $FLYTE_TS_HOME, else ./.flyte
  -h, --help         show this help
`;

function taskNames(home: string, run: string): Map<string, string> {
  if (!existsSync(join(home, "runs.db"))) return new Map();
  const db = new RunStore(home).database;
  const record = db === undefined ? undefined : loadRun(db, run);
  // Without a stored record the logs are still printed, prefixed by action id only.
  return new Map((record?.actions ?? []).map((a) => [a.id, a.task]));
}

function prefixed(entries: readonly LogEntry[], tasks: ReadonlyMap<string, string>): string {
  const partial = new Map<string, string>();
  const out: string[] = [];
  const prefix = (action: string) => {
    const task = tasks.get(action);
    return task === undefined
      ? `[${action}] `
      : `[${task.slice(task.indexOf(".") + 1)} ${action}] `;
  };
  for (const entry of entries) {
    const lines = ((partial.get(entry.action) ?? "") + entry.text).split("\n");
    partial.set(entry.action, lines.pop() ?? "");
    for (const line of lines) out.push(`${prefix(entry.action)}${line}\n`);
  }
  for (const [action, rest] of partial) if (rest !== "") out.push(`${prefix(action)}${rest}\n`);
  return out.join("");
}

/** Runs `flyte-ts runs logs` with the words after `logs`; resolves with the exit status. */
export async function runsLogsCommand(argv: readonly string[]): Promise<ExitCode> {
  const { flags, positionals } = readFlags(argv, (name) => name === "cache-dir");
  let cacheDir: string | undefined;
  for (const flag of flags) {
    if (flag.name === "help") {
      process.stdout.write(runsLogsHelp);
      return ExitCode.ok;
    }
    if (flag.name !== "cache-dir" || flag.value === true) {
      throw new UsageError(`Unknown option --${flag.name}. See \`flyte-ts runs logs --help\`.`);
    }
    cacheDir = flag.value;
  }
  const [run, action, extra] = positionals;
  if (run === undefined || extra !== undefined) {
    throw new UsageError(
      "`flyte-ts runs logs` needs a run name and at most one action id. See `flyte-ts runs logs --help`.",
    );
  }
  const home = resolve(cacheDir ?? process.env.FLYTE_TS_HOME ?? ".flyte");
  const dir = join(home, "runs", run);
  if (!existsSync(dir)) {
    throw new UsageError(
      `No run \`${run}\` in ${join(home, "runs")}. Pass the run's name as printed by \`flyte-ts run\`, and --cache-dir if the run used one.`,
    );
  }
  const tasks = taskNames(home, run);
  const entries = await readLogs(dir, action);
  if (action !== undefined && !tasks.has(action) && entries.length === 0) {
    throw new UsageError(
      `Run \`${run}\` has no action \`${action}\`.${didYouMean(action, tasks.keys())} ` +
        `List its actions with \`flyte-ts runs show ${run}\`; "a0" is the root.`,
    );
  }
  if (action !== undefined) {
    process.stdout.write(entries.map((e) => e.text).join(""));
  } else {
    process.stdout.write(prefixed(entries, tasks));
  }
  return ExitCode.ok;
}
