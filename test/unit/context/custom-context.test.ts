import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-custom-context-"));
const env = new flyte.TaskEnvironment({ name: "custom-context", runtime: "inline" });

const grandchild = env.task(async function grandchild() {
  return flyte.getCustomContext();
});
const child = env.task(async function child() {
  return { own: flyte.ctx()?.customContext, below: await grandchild() };
});

describe("flyte.customContext", () => {
  it("sets context for the task calls made inside it, merged with the run's, down the call tree", async () => {
    const parent = env.task(async function scopedParent() {
      const inside = await flyte.customContext({ project: "p1", team: "infra" }, async () => ({
        body: flyte.getCustomContext(),
        call: await child(),
      }));
      const after = { body: flyte.getCustomContext(), call: await child() };
      return { inside, after };
    });
    const run = await flyte
      .withRunContext({ cacheDir, customContext: { team: "ml", region: "eu" } })
      .run(parent);
    const { inside, after } = await run.outputs();
    const merged = { team: "infra", region: "eu", project: "p1" };
    expect(inside).toEqual({ body: merged, call: { own: merged, below: merged } });
    const runs = { team: "ml", region: "eu" };
    expect(after).toEqual({ body: runs, call: { own: runs, below: runs } });
  });

  it("nests, the inner block adding to the outer one", async () => {
    const parent = env.task(async function nestedScopes() {
      return flyte.customContext({ a: "1" }, () => flyte.customContext({ b: "2" }, () => child()));
    });
    const run = await flyte.withRunContext({ cacheDir }).run(parent);
    expect((await run.outputs()).own).toEqual({ a: "1", b: "2" });
  });

  it("keeps the context out of cache keys, as upstream", async () => {
    let calls = 0;
    const cached = env.task({ cache: "auto" }, async function cachedReader(x: number) {
      calls++;
      return `${x}:${flyte.getCustomContext().project}`;
    });
    const parent = env.task(async function twoProjects() {
      const first = await flyte.customContext({ project: "a" }, () => cached(1));
      const second = await flyte.customContext({ project: "b" }, () => cached(1));
      return [first, second];
    });
    const run = await flyte.withRunContext({ cacheDir, name: "custom-cache" }).run(parent);
    expect(await run.outputs()).toEqual(["1:a", "1:a"]);
    expect(calls).toBe(1);
  });

  it("simply calls the function outside a task, where the context is empty", () => {
    expect(flyte.customContext({ a: "1" }, () => flyte.getCustomContext())).toEqual({});
    expect(flyte.ctx()).toBeNull();
  });

  it("refuses a value that is not a string, naming its key", () => {
    expect(() => flyte.customContext({ n: 1 as unknown as string }, () => 0)).toThrow(
      /custom context value `n` to be a string, got 1/,
    );
  });
});
