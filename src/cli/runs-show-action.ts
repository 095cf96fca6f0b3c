/**
 * `flyte-ts runs show <run> <action> [--json]`: one action of a stored run — its label, task,
 * status, inputs and output (previews; `--json` adds the whole values when they were kept),
 * attempts and their errors.
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "../cache/database.js";
import { SqliteCacheStore } from "../cache/sqlite-cache-store.js";
import { loadActionValues } from "../record/action-io.js";
import type { RunRecordData } from "../record/run-record.js";
import { didYouMean } from "./did-you-mean.js";
import { formatTime, type StoreArgs } from "./home.js";
import { jsonReplacer } from "./print.js";
import { formatDuration } from "./since.js";
import { ExitCode, UsageError } from "./usage.js";

/** The whole output of a cached action, read from the cache by its key. */
async function cachedOutput(home: string, key: string): Promise<{ value: unknown } | undefined> {
  if (!existsSync(join(home, "cache.db"))) return undefined;
  const cache = new SqliteCacheStore(home);
  try {
    const hit = await cache.get(key);
    return hit === undefined ? undefined : { value: hit.value };
  } finally {
    await cache.close();
  }
}

/** Prints action `id` of `run`. */
export async function showAction(
  db: Database,
  args: StoreArgs,
  run: RunRecordData,
  id: string,
): Promise<ExitCode> {
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
    const values = loadActionValues(db, run.name, id);
    const output =
      values.output ??
      (values.key === undefined || action.status !== "succeeded"
        ? undefined
        : await cachedOutput(args.home, values.key));
    const whole = {
      ...action,
      ...(values.inputs === undefined ? {} : { inputValues: values.inputs }),
      ...(output === undefined ? {} : { outputValue: output.value }),
      ...(values.key === undefined ? {} : { cacheKey: values.key }),
    };
    let text: string;
    try {
      text = JSON.stringify(whole, jsonReplacer, 2);
    } catch {
      // A cyclic value: the previews say what it holds.
      text = JSON.stringify(action, jsonReplacer, 2);
    }
    out(`${text}\n`);
    return ExitCode.ok;
  }
  out(`action:   ${action.id}${action.label === undefined ? "" : `  ${action.label}`}\n`);
  out(`run:      ${run.name}\ntask:     ${action.task}\n`);
  if (action.parent !== undefined) out(`parent:   ${action.parent}\n`);
  if (action.group !== undefined) out(`group:    ${action.group}\n`);
  const how = action.cacheHit ? " (cache hit)" : action.resumed ? " (resumed)" : "";
  out(`status:   ${action.status}${how}\n`);
  out(`queued:   ${formatTime(action.queuedAt)}\n`);
  if (action.endedAt !== undefined) {
    out(`duration: ${formatDuration(action.endedAt - action.queuedAt)}\n`);
  }
  if (action.inputs !== undefined) {
    out(action.inputs.length === 0 ? "inputs:   (none)\n" : "inputs:\n");
    const width = Math.max(0, ...action.inputs.map((i) => i.name.length));
    for (const input of action.inputs) out(`  ${input.name.padEnd(width)}  ${input.preview}\n`);
  }
  if (action.output !== undefined) out(`output:   ${action.output}\n`);
  for (const attempt of action.attempts) {
    const took =
      attempt.endedAt === undefined
        ? ""
        : ` (${formatDuration(attempt.endedAt - attempt.startedAt)})`;
    const outcome =
      attempt.error === undefined
        ? ""
        : ` · ${attempt.error.name}: ${attempt.error.message.split("\n")[0]}`;
    const from =
      attempt.checkpointBytes === undefined
        ? ""
        : ` · from checkpoint (${attempt.checkpointBytes} B)`;
    out(
      `attempt ${attempt.attempt}: started ${formatTime(attempt.startedAt)}${took}${from}${outcome}\n`,
    );
  }
  if (action.error !== undefined) out(`error:    ${action.error.name}: ${action.error.message}\n`);
  out(
    `\nPreviews are cut at 200 characters; \`flyte-ts runs show ${run.name} ${id} --json\` prints the whole values.\n`,
  );
  return ExitCode.ok;
}
