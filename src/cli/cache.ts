/**
 * `flyte-ts cache ls | show <key> | stats | clear [--task t] | prune --older-than 7d --max-size 1G`.
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  cacheStats,
  clearEntries,
  findEntries,
  listEntries,
  parseSize,
  pruneEntries,
} from "../cache/cache-admin.js";
import type { Database } from "../cache/database.js";
import { SqliteCacheStore } from "../cache/sqlite-cache-store.js";
import { durationToMs } from "../internal/time.js";
import { entryInputs } from "./cache-inputs.js";
import { didYouMean } from "./did-you-mean.js";
import { formatBytes, formatTime, readStoreArgs, type StoreArgs, table } from "./home.js";
import { formatOutput } from "./print.js";
import { cacheHelp, ExitCode, UsageError } from "./usage.js";

/** Runs `flyte-ts cache <argv>`; resolves with the exit status. */
export async function cacheCommand(argv: readonly string[]): Promise<ExitCode> {
  const args = readStoreArgs(argv, ["task", "older-than", "max-size"]);
  const [command, ...rest] = args.positionals;
  if (args.help || command === undefined) {
    (command === undefined && !args.help ? process.stderr : process.stdout).write(cacheHelp);
    return args.help ? ExitCode.ok : ExitCode.usage;
  }
  if (!existsSync(join(args.home, "cache.db"))) {
    // A run creates cache.db only once it caches something (or digests a file).
    const task = command === "clear" ? args.value("task") : undefined;
    if (task !== undefined) throw unknownTask([], task);
    if (command === "ls" || command === "stats" || command === "clear" || command === "prune") {
      process.stdout.write(args.json ? "[]\n" : `The cache in ${args.home} is empty.\n`);
      return ExitCode.ok;
    }
  }
  const store = new SqliteCacheStore(args.home);
  const db = store.database;
  if (db === undefined) return ExitCode.failed;
  try {
    return await subcommand(command, rest, args, store, db);
  } finally {
    await store.close();
  }
}

/** The error for `--task` naming a task with no cache entries, with the `tasks` that have some. */
function unknownTask(tasks: readonly string[], task: string): UsageError {
  const known =
    tasks.length === 0 ? "The cache is empty." : `Tasks with entries: ${tasks.join(", ")}.`;
  return new UsageError(
    `No cache entries for task \`${task}\`.${didYouMean(task, tasks)} ${known} Give the task's full name "<env>.<function>".`,
  );
}

async function subcommand(
  command: string,
  rest: readonly string[],
  args: StoreArgs,
  store: SqliteCacheStore,
  db: Database,
): Promise<ExitCode> {
  const out = (text: string) => process.stdout.write(text);
  switch (command) {
    case "ls": {
      const entries = listEntries(db, args.value("task"));
      const made = entryInputs(args.home);
      try {
        const withInputs = entries.map((e) => ({ ...e, madeBy: made.of(e.key) }));
        if (args.json) out(`${JSON.stringify(withInputs, null, 2)}\n`);
        else
          out(
            table(
              ["KEY", "TASK", "SIZE", "WRITTEN", "INPUTS"],
              withInputs.map((e) => [
                e.key.slice(0, 16),
                e.task,
                formatBytes(e.size),
                formatTime(e.createdAt),
                e.madeBy?.label ?? "",
              ]),
            ),
          );
      } finally {
        made.close();
      }
      return ExitCode.ok;
    }
    case "show": {
      const prefix = rest[0];
      if (prefix === undefined)
        throw new UsageError("`flyte-ts cache show` needs a key (or a key prefix).");
      const found = findEntries(db, prefix);
      if (found.length !== 1) {
        throw new UsageError(
          found.length === 0
            ? `No cache entry has a key starting with "${prefix}". List them with \`flyte-ts cache ls\`.`
            : `More than one cache entry starts with "${prefix}"; give more of the key.`,
        );
      }
      const entry = found[0] as (typeof found)[number];
      // The cache keeps real values; what is shown of them has known secrets masked.
      const hit = store.shown(entry.key);
      if (hit === undefined) {
        console.error(`The entry ${entry.key} could not be read (see the warning above).`);
        return ExitCode.failed;
      }
      const made = entryInputs(args.home);
      const madeBy = made.of(entry.key);
      made.close();
      if (args.json)
        out(`${JSON.stringify({ ...entry, madeBy, output: formatOutput(hit.value) }, null, 2)}\n`);
      else {
        out(
          `key:     ${entry.key}\ntask:    ${entry.task}\nobject:  ${entry.hash === "" ? "(kept in the entry)" : entry.hash}\nsize:    ${formatBytes(entry.size)}\nwritten: ${formatTime(entry.createdAt)}\n`,
        );
        if (madeBy === undefined)
          out(
            "inputs:  (not recorded: the entry predates input recording, or its run was removed)\n",
          );
        else {
          out(
            `made by: ${madeBy.label ?? entry.task}, action ${madeBy.action} of run ${madeBy.run}\n`,
          );
          const width = Math.max(0, ...(madeBy.inputs ?? []).map((i) => i.name.length));
          out((madeBy.inputs ?? []).length === 0 ? "inputs:  (none)\n" : "inputs:\n");
          for (const input of madeBy.inputs ?? [])
            out(`  ${input.name.padEnd(width)}  ${input.preview}\n`);
        }
        out(`output:  ${formatOutput(hit.value) ?? "undefined"}\n`);
      }
      return ExitCode.ok;
    }
    case "stats": {
      const stats = cacheStats(db);
      if (args.json) out(`${JSON.stringify(stats, null, 2)}\n`);
      else
        out(
          `entries: ${stats.entries} (${stats.tasks} tasks)\nobjects: ${stats.objects}\ninline:  ${formatBytes(stats.inlineBytes)}\nblobs:   ${formatBytes(stats.blobBytes)}\n`,
        );
      return ExitCode.ok;
    }
    case "clear": {
      const task = args.value("task");
      if (task !== undefined && listEntries(db, task).length === 0) {
        throw unknownTask([...new Set(listEntries(db).map((e) => e.task))].sort(), task);
      }
      const removed = clearEntries(store, db, task);
      out(`Removed ${removed} cache entr${removed === 1 ? "y" : "ies"}.\n`);
      return ExitCode.ok;
    }
    case "prune": {
      const olderThan = args.value("older-than");
      const maxSize = args.value("max-size");
      if (olderThan === undefined && maxSize === undefined) {
        throw new UsageError(
          "`flyte-ts cache prune` needs --older-than <duration> and/or --max-size <size>, e.g. --older-than 7d --max-size 1G.",
        );
      }
      let olderThanMs: number | undefined;
      let maxBytes: number | undefined;
      try {
        olderThanMs = olderThan === undefined ? undefined : durationToMs(olderThan);
        maxBytes = maxSize === undefined ? undefined : parseSize(maxSize);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const removed = pruneEntries(store, db, {
        ...(olderThanMs === undefined ? {} : { olderThanMs }),
        ...(maxBytes === undefined ? {} : { maxBytes }),
      });
      out(`Removed ${removed} cache entr${removed === 1 ? "y" : "ies"}.\n`);
      return ExitCode.ok;
    }
    default:
      throw new UsageError(`Unknown cache command \`${command}\`. See \`flyte-ts cache --help\`.`);
  }
}
