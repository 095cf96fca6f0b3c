/**
 * Caching: a task with `cache: "auto"` runs once per distinct input; later calls — in this run,
 * in the next run, in another process — come from `.flyte/cache.db`. A `flyte.File` input is
 * keyed by the file's content, so editing the file is what makes the task run again.
 *
 *   npx flyte-ts run examples/caching.ts main      # prints "lines: 3 (ran 1 of 2 calls)"
 *   npx flyte-ts cache ls                          # the stored entries
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as flyte from "flyte-ts";

export const env = new flyte.TaskEnvironment({ name: "caching", runtime: "inline" });

let executions = 0;

/** Counts the lines of a file; cached by the file's content. */
export const countLines = env.task({ cache: "auto" }, async function countLines(data: flyte.File) {
  executions++;
  const { readFile } = await import("node:fs/promises");
  return (await readFile(data.path, "utf8")).trim().split("\n").length;
});

/** Writes a small file, then counts its lines twice: the second call is a cache hit. */
export const main = env.task(async function main() {
  const path = join(flyte.ctx()?.rawDataPath ?? ".", "lines.txt");
  writeFileSync(path, "a\nb\nc\n");
  const file = flyte.File.fromLocal(path);
  const first = await countLines(file);
  const second = await countLines(file);
  return `lines: ${second} (ran ${executions} of 2 calls${first === second ? "" : ", mismatch"})`;
});
