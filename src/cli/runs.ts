/**
 * `flyte-ts runs ls | show <run>`: the runs kept in the run store.
 * @module
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatMs } from "../internal/time.js";
import { listRuns, loadRun } from "../record/run-history.js";
import { RunStore } from "../record/run-store.js";
import { reportFileName } from "../record/write-report.js";
import { formatTime, readStoreArgs, table } from "./home.js";
import { ExitCode, runsHelp, UsageError } from "./usage.js";

/** Runs `flyte-ts runs <argv>`; resolves with the exit status. */
export function runsCommand(argv: readonly string[]): Promise<ExitCode> {
  const args = readStoreArgs(argv, []);
  const [command, name] = args.positionals;
  const out = (text: string) => process.stdout.write(text);
  if (args.help || command === undefined) {
    (args.help ? process.stdout : process.stderr).write(runsHelp);
    return Promise.resolve(args.help ? ExitCode.ok : ExitCode.usage);
  }
  if (command !== "ls" && command !== "show") {
    throw new UsageError(`Unknown runs command \`${command}\`. See \`flyte-ts runs --help\`.`);
  }
  if (command === "show" && name === undefined)
    throw new UsageError("`flyte-ts runs show` needs a run name.");
  if (!existsSync(join(args.home, "runs.db"))) {
    if (command === "ls") {
      out(args.json ? "[]\n" : `No runs are stored in ${args.home}.\n`);
      return Promise.resolve(ExitCode.ok);
    }
    throw new UsageError(`No runs are stored in ${args.home}.`);
  }
  const store = new RunStore(args.home);
  const db = store.database;
  if (db === undefined) return Promise.resolve(ExitCode.failed);
  try {
    if (command === "ls") {
      const runs = listRuns(db);
      if (args.json) out(`${JSON.stringify(runs, null, 2)}\n`);
      else
        out(
          table(
            ["NAME", "TASK", "STATUS", "ACTIONS", "STARTED"],
            runs.map((r) => [r.name, r.task, r.status, String(r.actions), formatTime(r.startedAt)]),
          ),
        );
      return Promise.resolve(ExitCode.ok);
    }
    const run = loadRun(db, name as string);
    if (run === undefined) {
      throw new UsageError(
        `There is no run "${name}" in ${args.home}. List them with \`flyte-ts runs ls\`.`,
      );
    }
    if (args.json) out(`${JSON.stringify(run, null, 2)}\n`);
    else {
      out(
        `run:     ${run.name}\ntask:    ${run.task}\nstatus:  ${run.status}\nstarted: ${formatTime(run.startedAt)}\n`,
      );
      if (run.error) out(`error:   ${run.error.name}: ${run.error.message}\n`);
      const report = join(args.home, "runs", run.name, reportFileName);
      if (existsSync(report)) out(`report:  ${report}\n`);
      out("\n");
      out(
        table(
          ["ACTION", "PARENT", "TASK", "STATUS", "ATTEMPTS", "CACHED", "WAITED", "RAN", "WHERE"],
          run.actions.map((a) => {
            // The last attempt's phases: how long it waited before its body ran, and where.
            const last = a.attempts.at(-1);
            const waited =
              last?.runningAt === undefined ? "" : formatMs(last.runningAt - last.startedAt);
            const ran =
              last?.runningAt === undefined || last.endedAt === undefined
                ? ""
                : formatMs(last.endedAt - last.runningAt);
            const where = [last?.lane, ...(last?.devices ?? [])].filter((w) => w !== undefined);
            return [
              a.id,
              a.parent ?? "-",
              a.task,
              a.status,
              String(a.attempts.length),
              a.cacheHit ? "yes" : "",
              waited,
              ran,
              where.join(" "),
            ];
          }),
        ),
      );
    }
    return Promise.resolve(ExitCode.ok);
  } finally {
    store.close();
  }
}
