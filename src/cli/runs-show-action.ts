/**
 * `flyte-ts runs show <run> <action>`: one action of a stored run — task, status, attempts and
 * their errors, and its times.
 * @module
 */
import type { Database } from "../cache/database.js";
import type { RunRecordData } from "../record/run-record.js";
import { didYouMean } from "./did-you-mean.js";
import { formatTime, type StoreArgs } from "./home.js";
import { formatDuration } from "./since.js";
import { ExitCode, UsageError } from "./usage.js";

/** Prints action `id` of `run`. */
export function showAction(
  _db: Database,
  args: StoreArgs,
  run: RunRecordData,
  id: string,
): ExitCode {
  const action = run.actions.find((a) => a.id === id);
  if (action === undefined) {
    throw new UsageError(
      `Run "${run.name}" has no action "${id}".${didYouMean(
        id,
        run.actions.map((a) => a.id),
      )} ` + `List its actions with \`flyte-ts runs show ${run.name}\`.`,
    );
  }
  const out = (text: string) => process.stdout.write(text);
  if (args.json) {
    out(`${JSON.stringify(action, null, 2)}\n`);
    return ExitCode.ok;
  }
  out(`action:   ${action.id}\nrun:      ${run.name}\ntask:     ${action.task}\n`);
  if (action.parent !== undefined) out(`parent:   ${action.parent}\n`);
  if (action.group !== undefined) out(`group:    ${action.group}\n`);
  out(`status:   ${action.status}${action.cacheHit ? " (cache hit)" : ""}\n`);
  out(`queued:   ${formatTime(action.queuedAt)}\n`);
  if (action.endedAt !== undefined) {
    out(`duration: ${formatDuration(action.endedAt - action.queuedAt)}\n`);
  }
  for (const attempt of action.attempts) {
    const took =
      attempt.endedAt === undefined
        ? ""
        : ` (${formatDuration(attempt.endedAt - attempt.startedAt)})`;
    const outcome =
      attempt.error === undefined
        ? ""
        : ` · ${attempt.error.name}: ${attempt.error.message.split("\n")[0]}`;
    out(`attempt ${attempt.attempt}: started ${formatTime(attempt.startedAt)}${took}${outcome}\n`);
  }
  if (action.error !== undefined) out(`error:    ${action.error.name}: ${action.error.message}\n`);
  return ExitCode.ok;
}
