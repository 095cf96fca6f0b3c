/**
 * Porting a flyte program: the seed's spellings work as written — `Resources` in GiB, `env` for
 * the environment's variables, `Backoff` between retries, a `deadline` for the whole action,
 * scoped custom context, and `flyte.map` over a partial.
 *
 *   npx flyte-ts run examples/porting.ts main
 */
import * as flyte from "flyte-ts";

export const env = new flyte.TaskEnvironment({
  name: "porting",
  resources: new flyte.Resources({ cpu: 1, memory: "1GiB" }), // Jobs say 1Gi
  env: { UNIT: "cm" }, // the seed's name for envVars
});

/** Scales one value; the unit comes from the environment, the region from the custom context. */
export const scale = env.task(async function scale(x: number, factor: number) {
  return `${x * factor}${process.env.UNIT} (${flyte.getCustomContext().region ?? "anywhere"})`;
});

/** Fails on its first two attempts; waits 10 ms, then 20 ms, between them. */
export const flaky = env.task(
  {
    retries: new flyte.RetryStrategy({
      count: 3,
      backoff: new flyte.Backoff({ base: "10ms", factor: 2, cap: "1s" }),
    }),
    timeout: new flyte.Timeout({ maxRuntime: "10s", deadline: "1m" }), // 1 minute for all attempts
  },
  async function flaky() {
    const attempt = flyte.ctx()?.attemptNumber ?? 0;
    if (attempt < 2) throw new Error(`transient failure on attempt ${attempt}`);
    return `succeeded on attempt ${attempt}`;
  },
);

/** Maps `scale` with its factor fixed, inside a custom context; then calls `flaky`. */
export const main = env.task(async function main(): Promise<string[]> {
  const scaled = await flyte.customContext({ region: "eu" }, () =>
    flyte.map(scale.partial({ factor: 2 }), [1, 2, 3], { returnExceptions: false }),
  );
  return [...scaled, await flaky()];
});

flyte.main(import.meta, async () => {
  const run = await flyte.run(main);
  console.log(JSON.stringify(await run.outputs()));
});
