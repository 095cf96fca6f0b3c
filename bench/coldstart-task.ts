// The coldstart TypeScript program for `flyte-ts run`: one task on the default environment.
import * as flyte from "flyte-ts";

const env = new flyte.TaskEnvironment({ name: "coldstart" });

export const inc = env.task(async function inc(x: number): Promise<number> {
  return x + 1;
});
