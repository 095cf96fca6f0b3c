// Within one run, waiters of a serialized call get the leader's value; if the leader fails, the
// next waiter runs the call (and the others wait for it) instead of all failing with it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";

const env = new flyte.TaskEnvironment({ name: "serialize-failure", runtime: "inline" });
let executions = 0;
const flaky = env.task(
  { cache: new flyte.Cache({ behavior: "auto", serialize: true }) },
  async function flaky(x: number) {
    executions++;
    await new Promise((resolve) => setImmediate(resolve));
    if (executions === 1) throw new Error("the leader failed");
    return x * 2;
  },
);
const main = env.task(async function main() {
  const settled = await Promise.allSettled([flaky(21), flaky(21), flaky(21)]);
  return settled.map((s) => (s.status === "fulfilled" ? s.value : "failed"));
});

describe("a serialized call whose leader fails", () => {
  it("is run by the next waiter, and the others get that value", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-serialize-failure-"));
    const run = await flyte.withRunContext({ cacheDir }).run(main);
    expect(await run.outputs()).toEqual(["failed", 42, 42]);
    expect(executions).toBe(2);
  });
});
