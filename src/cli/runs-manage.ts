/**
 * `flyte-ts runs rm <run…>`, `runs prune --older-than <d>` and `runs cancel <run>`: removing
 * stored runs, and cancelling a run that another process is running.
 * @module
 */
import type { Database } from "../cache/database.js";
import { durationToMs } from "../internal/time.js";
import { markCancelled, removeRun, runsOlderThan } from "../record/run-admin.js";
import { CANCEL_POLL_MS, requestCancel } from "../record/run-cancel.js";
import { ownerOf, ownerState } from "../record/run-owner.js";
import type { StoreArgs } from "./home.js";
import { noSuchRun } from "./no-such-run.js";
import { ExitCode, UsageError } from "./usage.js";

function statusOf(db: Database, name: string): string | undefined {
  return db
    .prepare<[string], { status: string }>("SELECT status FROM runs WHERE name = ?")
    .get(name)?.status;
}

/** Whether `name` is being run right now by a live process. */
function runningNow(db: Database, name: string): boolean {
  const owner = ownerOf(db, name);
  return statusOf(db, name) === "running" && owner !== undefined && ownerState(owner) !== "dead";
}

/** `runs rm <run…>`: removes each run's record and folders; refuses runs still going. */
export function removeRuns(db: Database, args: StoreArgs, names: readonly string[]): ExitCode {
  for (const name of names) {
    if (statusOf(db, name) === undefined) throw noSuchRun(db, args.home, name);
    if (runningNow(db, name)) {
      throw new UsageError(
        `Run "${name}" is running now; cancel it first with \`flyte-ts runs cancel ${name}\`.`,
      );
    }
  }
  for (const name of names) removeRun(db, args.home, name);
  process.stdout.write(
    `Removed ${names.length} run${names.length === 1 ? "" : "s"}: ${names.join(", ")}.\n`,
  );
  return ExitCode.ok;
}

/** `runs prune --older-than <d>`: removes finished (and died) runs started before then. */
export function pruneRuns(db: Database, args: StoreArgs): ExitCode {
  const olderThan = args.value("older-than");
  if (olderThan === undefined) {
    throw new UsageError(
      "`flyte-ts runs prune` needs --older-than <duration>, e.g. --older-than 7d.",
    );
  }
  let olderThanMs: number;
  try {
    olderThanMs = durationToMs(olderThan);
  } catch (error) {
    throw new UsageError(`--older-than: ${(error as Error).message}`);
  }
  const now = Date.now();
  const died = db
    .prepare<[number], { name: string }>(
      "SELECT name FROM runs WHERE status = 'running' AND started_at < ?",
    )
    .all(now - olderThanMs)
    .map((r) => r.name)
    .filter((name) => !runningNow(db, name));
  const names = [...runsOlderThan(db, olderThanMs, now), ...died];
  for (const name of names) removeRun(db, args.home, name);
  process.stdout.write(`Removed ${names.length} run${names.length === 1 ? "" : "s"}.\n`);
  return ExitCode.ok;
}

/** Resolves once `name` is no longer `running` in the store, or after `timeoutMs`. */
async function settled(db: Database, name: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = statusOf(db, name);
    if (status !== "running") return status;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS / 2));
  }
}

/**
 * `runs cancel <run>`: asks the run's owning process to cancel it and waits until the run is
 * recorded as finished (`--timeout`, default 30s). A run whose process is gone is marked
 * cancelled directly.
 */
export async function cancelRun(db: Database, args: StoreArgs, name: string): Promise<ExitCode> {
  const out = (text: string) => process.stdout.write(text);
  const status = statusOf(db, name);
  if (status === undefined) throw noSuchRun(db, args.home, name);
  if (status !== "running") {
    console.error(`Run "${name}" is not running (it ${status}); there is nothing to cancel.`);
    return ExitCode.failed;
  }
  const owner = ownerOf(db, name);
  const state = owner === undefined ? "dead" : ownerState(owner);
  const now = Date.now();
  if (state === "dead") {
    const who =
      owner === undefined ? "no owner was recorded" : `its process (pid ${owner.pid}) is gone`;
    markCancelled(
      db,
      name,
      now,
      `Run "${name}" was cancelled with \`flyte-ts runs cancel\` after ${who}.`,
    );
    out(`Run "${name}" was recorded as running but ${who}; marked it cancelled.\n`);
    return ExitCode.ok;
  }
  let timeoutMs: number;
  try {
    timeoutMs = durationToMs(args.value("timeout") ?? "30s");
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`);
  }
  requestCancel(db, name, now);
  const where = state === "unknown" ? ` on ${owner?.host}` : "";
  out(`Asked process ${owner?.pid}${where} to cancel run "${name}"…\n`);
  const final = await settled(db, name, timeoutMs);
  if (final === undefined) {
    console.error(
      `Run "${name}" is still running after ${args.value("timeout") ?? "30s"}: its process (pid ${owner?.pid}) has not answered. ` +
        "It may be busy; wait, or stop the process.",
    );
    return ExitCode.failed;
  }
  out(`Run "${name}" ${final}.\n`);
  return ExitCode.ok;
}
