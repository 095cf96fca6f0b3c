/**
 * `flyte-ts runs ls | show <run> | rm <run…> | prune --older-than <d> | cancel <run>`: the runs
 * kept in the run store.
 * @module
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "../cache/database.js";
import { formatMs } from "../internal/time.js";
import type { RunStatus } from "../record/events.js";
import { listRuns, loadRun, type RunSummary } from "../record/run-history.js";
import { ownerOf, ownerState, type ShownStatus, shownStatus } from "../record/run-owner.js";
import { lastAttemptTimes } from "../record/run-record.js";
import { RunStore } from "../record/run-store.js";
import { reportFileName } from "../record/write-report.js";
import { didYouMean } from "./did-you-mean.js";
import { formatTime, readStoreArgs, type StoreArgs, table } from "./home.js";
import { noSuchRun } from "./no-such-run.js";
import { cancelRun, pruneRuns, removeRuns } from "./runs-manage.js";
import { showAction } from "./runs-show-action.js";
import { formatDuration, parseSince } from "./since.js";
import { ExitCode, runsHelp, UsageError } from "./usage.js";

const commands = ["ls", "show", "rm", "prune", "cancel", "logs"];
const statuses: readonly ShownStatus[] = ["running", "succeeded", "failed", "cancelled", "died"];

/** One line of `runs ls`, with the status as shown and the run's duration so far. */
export interface ListedRun extends Omit<RunSummary, "status"> {
  readonly status: ShownStatus;
  readonly durationMs: number | undefined;
}

function listed(db: Database, runs: readonly RunSummary[], now: number): ListedRun[] {
  return runs.map((r) => {
    const status = shownStatus(db, r.name, r.status);
    const durationMs =
      r.endedAt !== undefined
        ? r.endedAt - r.startedAt
        : status === "running"
          ? now - r.startedAt
          : undefined;
    return { ...r, status, durationMs };
  });
}

function ls(db: Database, args: StoreArgs): ExitCode {
  const out = (text: string) => process.stdout.write(text);
  const status = args.value("status");
  if (status !== undefined && !statuses.includes(status as ShownStatus)) {
    throw new UsageError(
      `--status expects one of ${statuses.join(", ")}, got "${status}".${didYouMean(status, statuses)}`,
    );
  }
  const limitText = args.value("limit");
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
    throw new UsageError(`--limit expects a whole number above 0, got "${limitText}".`);
  }
  const now = Date.now();
  const since = parseSince(args.value("since"), now);
  const stored: RunStatus | undefined = status === "died" ? "running" : (status as RunStatus);
  let runs = listed(
    db,
    listRuns(db, {
      ...(stored === undefined ? {} : { status: stored }),
      ...(since === undefined ? {} : { since }),
      // "died" and "running" are told apart after reading: read them all, cut after.
      ...(limit === undefined || status === "died" || status === "running" ? {} : { limit }),
    }),
    now,
  );
  if (status !== undefined) runs = runs.filter((r) => r.status === status);
  if (limit !== undefined) runs = runs.slice(0, limit);
  if (args.json) {
    out(`${JSON.stringify(runs, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (runs.length === 0) {
    out("No runs match.\n");
    return ExitCode.ok;
  }
  out(
    table(
      ["NAME", "TASK", "STATUS", "ACTIONS", "STARTED", "DURATION"],
      runs.map((r) => [
        r.name,
        r.task,
        r.status,
        String(r.actions),
        formatTime(r.startedAt),
        formatDuration(r.durationMs),
      ]),
    ),
  );
  return ExitCode.ok;
}

function show(
  db: Database,
  args: StoreArgs,
  name: string,
  action: string | undefined,
): ExitCode | Promise<ExitCode> {
  const out = (text: string) => process.stdout.write(text);
  const run = loadRun(db, name);
  if (run === undefined) throw noSuchRun(db, args.home, name);
  if (action !== undefined) return showAction(db, args, run, action);
  const status = shownStatus(db, name, run.status);
  const owner = ownerOf(db, name);
  if (args.json) {
    const ownerJson = owner === undefined ? undefined : { ...owner, state: ownerState(owner) };
    out(`${JSON.stringify({ ...run, shownStatus: status, owner: ownerJson }, null, 2)}\n`);
    return ExitCode.ok;
  }
  const durationMs = run.endedAt === undefined ? undefined : run.endedAt - run.startedAt;
  out(`run:      ${run.name}\ntask:     ${run.task}\n`);
  if (status === "died") {
    out(
      `status:   died — recorded as running, but its process (pid ${owner?.pid} on ${owner?.host}) is gone: killed, crashed or interrupted.\n` +
        `          Resume it with \`flyte-ts run --resume ${name} <file> <task> …\`, or remove it with \`flyte-ts runs rm ${name}\`.\n`,
    );
  } else {
    const by =
      status === "running" && owner !== undefined ? ` (process ${owner.pid} on ${owner.host})` : "";
    out(`status:   ${status}${by}\n`);
  }
  out(`started:  ${formatTime(run.startedAt)}\n`);
  if (durationMs !== undefined) out(`duration: ${formatDuration(durationMs)}\n`);
  if (run.error) out(`error:    ${run.error.name}: ${run.error.message.split("\n")[0]}\n`);
  const report = join(args.home, "runs", run.name, reportFileName);
  if (existsSync(report)) out(`report:   ${report}\n`);
  out("\n");
  out(
    table(
      [
        "ACTION",
        "PARENT",
        "TASK",
        "STATUS",
        "ATTEMPTS",
        "CACHED",
        "WAITED",
        "RAN",
        "WHERE",
        "LABEL",
      ],
      run.actions.map((a) => {
        // The last attempt's phases: how long it waited before its body ran, and where.
        const last = a.attempts.at(-1);
        const { waitedMs, ranMs } = lastAttemptTimes(a);
        const waited = waitedMs === undefined ? "" : formatMs(waitedMs);
        const ran =
          ranMs === undefined
            ? formatDuration(a.endedAt === undefined ? undefined : a.endedAt - a.queuedAt)
            : formatMs(ranMs);
        const where = [last?.lane, ...(last?.devices ?? [])].filter((w) => w !== undefined);
        return [
          a.id,
          a.parent ?? "-",
          a.task,
          a.status,
          String(a.attempts.length),
          a.cacheHit ? "yes" : a.resumed ? "resumed" : "",
          waited,
          ran,
          where.join(" "),
          a.label ?? "",
        ];
      }),
    ),
  );
  out(`\nOne action's inputs, output and attempts: \`flyte-ts runs show ${name} <action>\`.\n`);
  return ExitCode.ok;
}

/** Runs `flyte-ts runs <argv>`; resolves with the exit status. */
export async function runsCommand(argv: readonly string[]): Promise<ExitCode> {
  const args = readStoreArgs(argv, ["limit", "status", "since", "older-than", "timeout"]);
  const [command, ...names] = args.positionals;
  if (args.help || command === undefined) {
    (args.help ? process.stdout : process.stderr).write(runsHelp);
    return args.help ? ExitCode.ok : ExitCode.usage;
  }
  if (!commands.includes(command)) {
    throw new UsageError(
      `Unknown runs command \`${command}\`.${didYouMean(command, commands)} See \`flyte-ts runs --help\`.`,
    );
  }
  if ((command === "show" || command === "cancel") && names[0] === undefined) {
    throw new UsageError(`\`flyte-ts runs ${command}\` needs a run name.`);
  }
  if (command === "rm" && names.length === 0) {
    throw new UsageError("`flyte-ts runs rm` needs one or more run names.");
  }
  if (!existsSync(join(args.home, "runs.db"))) {
    if (command === "ls" || command === "prune") {
      process.stdout.write(args.json ? "[]\n" : `No runs are stored in ${args.home}.\n`);
      return ExitCode.ok;
    }
    throw new UsageError(`No runs are stored in ${args.home}.`);
  }
  const store = new RunStore(args.home);
  const db = store.database;
  if (db === undefined) return ExitCode.failed;
  try {
    switch (command) {
      case "ls":
        return ls(db, args);
      case "show":
        return await show(db, args, names[0] as string, names[1]);
      case "rm":
        return removeRuns(db, args, names);
      case "prune":
        return pruneRuns(db, args);
      default:
        return await cancelRun(db, args, names[0] as string);
    }
  } finally {
    store.close();
  }
}
