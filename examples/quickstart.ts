/**
 * Quickstart: an environment with caching, a task that squares a number, and a `main` task that
 * fans out one `square` call per number in a group and sums the results.
 *
 *   npx flyte-ts run examples/quickstart.ts main --n 10     # prints 285
 *   npx tsx examples/quickstart.ts                          # the same, through flyte.main below
 */
import * as flyte from "flyte-ts";

export const env = new flyte.TaskEnvironment({
  name: "quickstart",
  // Results are memoized by (task, code version, inputs): a second square(3) in a run is a hit.
  cache: "auto",
});

export const square = env.task(async function square(x: number): Promise<number> {
  return x * x;
});

export const main = env.task(
  {
    retries: new flyte.RetryStrategy({
      count: 3,
      backoff: new flyte.Backoff({ base: 1, factor: 2, cap: 10 }), // waits 1 s, 2 s, 4 s
    }),
  },
  async function main(n = 10): Promise<number> {
    // Each square(i) is a sub-action of this run; Promise.all runs them concurrently.
    const squares = await flyte.group("squares", () =>
      Promise.all(Array.from({ length: n }, (_, i) => square(i))),
    );
    return squares.reduce((sum, x) => sum + x, 0);
  },
);

flyte.main(import.meta, async () => {
  const run = await flyte.withRunContext({ mode: "local" }).run(main, 10);
  console.log(await run.outputs());
});
