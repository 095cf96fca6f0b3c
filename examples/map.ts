/**
 * Map: `flyte.map` calls a task once per input with bounded concurrency and keeps input order.
 * With `returnExceptions` a failed call's error takes its place in the results; `for await`
 * takes each result as soon as it (and those before it) are done.
 *
 *   npx flyte-ts run examples/map.ts main --count 8
 */
import * as flyte from "flyte-ts";

export const env = new flyte.TaskEnvironment({ name: "map" });

/** Scores one item; every fourth item (3, 7, ...) is out of range. */
export const score = env.task(async function score(id: number): Promise<number> {
  if (id % 4 === 3) throw new RangeError(`item ${id} is out of range`);
  return id * 10;
});

/** Scores `count` items, three at a time, and reports each; then sums a few with no failures. */
export const main = env.task(async function main(count: number = 8): Promise<string> {
  const ids = Array.from({ length: count }, (_, i) => i);
  const lines: string[] = [];
  let index = 0;
  for await (const result of flyte.map(score, ids, { concurrency: 3, returnExceptions: true })) {
    const id = ids[index++];
    if (result instanceof flyte.errors.RuntimeUserError) {
      lines.push(`item ${id}: failed with ${result.code}: ${result.message}`);
    } else {
      lines.push(`item ${id}: ${result}`);
    }
  }
  // Without returnExceptions the first failure rejects the whole map; these inputs all succeed.
  const scores = await flyte.map(score, [0, 1, 2], {
    concurrency: 2,
    returnExceptions: false,
    groupName: "checked",
  });
  lines.push(`sum of items 0-2: ${scores.reduce((sum, s) => sum + s, 0)}`);
  return lines.join("\n");
});

flyte.main(import.meta, async () => {
  const run = await flyte.run(main, 8);
  console.log(await run.outputs());
});
