// The controller with the default SQLite cache: hits from disk, what is not cached, run options,
// and a hit that never waits for admission.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { storedRun } from "../../fixtures/stored-run.js";

const newHome = () => mkdtempSync(join(tmpdir(), "flyte-ts-sqlite-run-"));
const env = new flyte.TaskEnvironment({ name: "cached", cache: "auto", runtime: "inline" });

let runs = 0;
const square = env.task(async function square(x: number) {
  runs++;
  return { x, squared: x * x, at: new Map([["k", 1n]]) };
});
const nothing = env.task(async function nothing(_x: number) {
  runs++;
});
const parent = env.task({ cache: "disable" }, async function parent(n: number) {
  const values = await Promise.all(Array.from({ length: n }, (_, i) => square(i)));
  return values.reduce((sum, v) => sum + v.squared, 0);
});

describe("the default SQLite cache", () => {
  it("returns a second identical call from disk without running it, marked as a cache hit", async () => {
    const cacheDir = newHome();
    runs = 0;
    await flyte.withRunContext({ cacheDir }).run(parent, 20);
    expect(runs).toBe(20);
    const again = await flyte.withRunContext({ cacheDir, name: "second" }).run(parent, 20);
    expect(runs).toBe(20);
    expect(await again.outputs()).toBe(2470);
    const children = again.actions.filter((a) => a.parent === "a0");
    expect(children.every((a) => a.cacheHit && a.attempts.length === 0)).toBe(true);
    expect(storedRun(cacheDir, "second")?.actions.filter((a) => a.cacheHit)).toHaveLength(20);
  });

  it("does not cache a task that returns undefined", async () => {
    const cacheDir = newHome();
    runs = 0;
    await flyte.withRunContext({ cacheDir }).run(nothing, 1);
    await flyte.withRunContext({ cacheDir }).run(nothing, 1);
    expect(runs).toBe(2);
  });

  it("skips the read but writes with overwriteCache, and does neither with disableRunCache", async () => {
    const cacheDir = newHome();
    runs = 0;
    await flyte.withRunContext({ cacheDir, disableRunCache: true }).run(square, 4);
    await flyte.withRunContext({ cacheDir }).run(square, 4);
    expect(runs).toBe(2);
    await flyte.withRunContext({ cacheDir, overwriteCache: true }).run(square, 4);
    expect(runs).toBe(3);
    await flyte.withRunContext({ cacheDir }).run(square, 4);
    expect(runs).toBe(3);
  });

  it("answers a cache hit without asking the scheduler for admission", async () => {
    const cacheDir = newHome();
    await flyte.withRunContext({ cacheDir }).run(square, 9);
    const never = { admit: () => new Promise(() => {}) };
    const engine = { scheduler: never } as ConstructorParameters<typeof flyte.RunContext>[1];
    const run = await new flyte.RunContext({ cacheDir }, engine).run(square, 9);
    expect(await run.outputs()).toMatchObject({ squared: 81 });
  });
});
