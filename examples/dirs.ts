/**
 * Directory inputs: `flyte.Dir.fromLocal(path)` passes a directory to a task — here one running
 * in a worker thread — and the cache key is the content of every file under it (relative paths
 * and SHA-256s), so the task runs again only when a file under it changes.
 *
 *   npx flyte-ts run examples/dirs.ts main        # prints "words: 5, 5, 6 (ran 2 of 3 calls)"
 *   npx flyte-ts run examples/dirs.ts main        # again: "words: 5, 5, 6 (ran 0 of 3 calls)"
 *   npx flyte-ts run examples/dirs.ts countWords --data ./some/folder
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import * as flyte from "flyte-ts";

export const env = new flyte.TaskEnvironment({ name: "dirs", runtime: "inline" });
const workers = new flyte.TaskEnvironment({ name: "dirs_workers", runtime: "thread" });

/** Counts the words of every file under `data`; cached by the directory's content. */
export const countWords = workers.task(
  { cache: "auto" },
  async function countWords(data: flyte.Dir) {
    const raw = flyte.ctx()?.rawDataPath;
    if (raw !== undefined) appendFileSync(join(raw, "calls.log"), "called\n");
    let words = 0;
    for (const name of await readdir(data.path, { recursive: true })) {
      const text = await readFile(join(data.path, name), "utf8").catch(() => "");
      words += text.split(/\s+/).filter(Boolean).length;
    }
    return words;
  },
);

/** Counts a small corpus twice (the second call is a cache hit), edits one file, counts again. */
export const main = env.task(async function main() {
  const raw = flyte.ctx()?.rawDataPath ?? ".";
  const corpus = join(raw, "corpus");
  mkdirSync(join(corpus, "more"), { recursive: true });
  writeFileSync(join(corpus, "a.txt"), "the quick brown\n");
  writeFileSync(join(corpus, "more", "b.txt"), "lazy dog\n");
  const data = flyte.Dir.fromLocal(corpus);
  const first = await countWords(data);
  const second = await countWords(data);
  writeFileSync(join(corpus, "more", "b.txt"), "lazy old dog\n");
  const third = await countWords(data);
  // In a later run all three are cache hits: the same contents were counted before.
  const log = join(raw, "calls.log");
  const calls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").length : 0;
  return `words: ${first}, ${second}, ${third} (ran ${calls} of 3 calls)`;
});
