import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { problemsOf } from "../../fixtures/config-problems.js";

const env = new flyte.TaskEnvironment({ name: "mapping", runtime: "inline" });
const square = env.task(async function square(x: number) {
  return x * x;
});
const syncSquare = env.task(function syncSquare(x: number) {
  return x * x;
});
const failOnTwo = env.task(async function failOnTwo(x: number) {
  if (x === 2) throw new TypeError(`bad item ${x}`);
  return x;
});
const addPair = env.task(async function addPair(a: number, b: number) {
  return a + b;
});

const scale = env.task(async function scale(x: number, factor: number, offset = 0) {
  return x * factor + offset;
});

describe("flyte.map", () => {
  it("returns awaited results in input order for async and sync tasks (case 25)", async () => {
    const mapper = env.task(async function mapper(n: number) {
      const xs = Array.from({ length: n }, (_, i) => i);
      return [await flyte.map(square, xs), await flyte.map(syncSquare, xs)];
    });
    expect(await (await flyte.run(mapper, 4)).outputs()).toEqual([
      [0, 1, 4, 9],
      [0, 1, 4, 9],
    ]);
  });

  it("puts a failing item's error in its place with returnExceptions (case 25)", async () => {
    const mapper = env.task(async function mapsFailures() {
      const results = await flyte.map(failOnTwo, [1, 2, 3]);
      return results.map((r) => (r instanceof Error ? `error:${r.message}` : r));
    });
    expect(await (await flyte.run(mapper)).outputs()).toEqual([1, "error:bad item 2", 3]);
  });

  it("surfaces a child's TypeError to the run's caller as RuntimeUserError (case 26)", async () => {
    const mapper = env.task(async function mapsStrictly() {
      return flyte.map(failOnTwo, [1, 2, 3], { returnExceptions: false });
    });
    const error = await flyte.run(mapper).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeUserError);
    expect((error as flyte.errors.RuntimeUserError).code).toBe("TypeError");
  });

  it("spreads argument lists for tasks with several parameters", async () => {
    expect(
      await flyte.map(addPair, [
        [1, 2],
        [3, 4],
      ]),
    ).toEqual([3, 7]);
  });

  it("never runs more than `concurrency` calls at once", async () => {
    let running = 0;
    let peak = 0;
    const tracked = env.task(async function tracked(x: number) {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return x;
    });
    const mapper = env.task(async function boundedMapper() {
      return flyte.map(
        tracked,
        Array.from({ length: 20 }, (_, i) => i),
        { concurrency: 3 },
      );
    });
    const results = await (await flyte.run(mapper)).outputs();
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
  });

  it("yields results in input order with for await", async () => {
    const seen: unknown[] = [];
    for await (const r of flyte.map(square, [3, 2, 1])) seen.push(r);
    expect(seen).toEqual([9, 4, 1]);
  });

  it("groups its calls under <task>_map", async () => {
    const mapper = env.task(async function groupedMapper() {
      return flyte.map(square, [1, 2]);
    });
    const run = await flyte.run(mapper);
    const children = run.actions.filter((a) => a.parent === "a0");
    expect(children.map((a) => a.group)).toEqual(["mapping.square_map", "mapping.square_map"]);
  });

  it("rejects a bad concurrency with a clear error", () => {
    expect(() => flyte.map(square, [1], { concurrency: -1 })).toThrow(/concurrency/);
  });

  it("maps a task with some arguments fixed by name over its free parameter", async () => {
    expect(await flyte.map(scale.partial({ factor: 2 }), [1, 2, 3])).toEqual([2, 4, 6]);
    expect(await flyte.map(scale.partial({ x: 10, offset: 1 }), [1, 2])).toEqual([11, 21]);
    expect(await scale.partial({ factor: 3 })(2)).toBe(6);
  });

  it("records each call of a partial as an action of the task itself, with its own cache key", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-map-partial-"));
    let calls = 0;
    const cachedScale = env.task(
      { cache: "auto" },
      async function cachedScale(x: number, factor: number) {
        calls++;
        return x * factor;
      },
    );
    const mapper = env.task(async function mapsPartial() {
      return flyte.map(cachedScale.partial({ factor: 2 }), [1, 2, 3]);
    });
    const run = await flyte.withRunContext({ cacheDir }).run(mapper);
    expect(await run.outputs()).toEqual([2, 4, 6]);
    const children = run.actions.filter((a) => a.parent !== undefined);
    expect(children.map((a) => [a.task, a.group])).toEqual(
      Array(3).fill(["mapping.cachedScale", "mapping.cachedScale_map"]),
    );
    // A direct call with the same arguments is the same cache entry.
    const direct = env.task(async function callsDirectly() {
      return cachedScale(2, 2);
    });
    const again = await flyte.withRunContext({ cacheDir }).run(direct);
    expect(await again.outputs()).toBe(4);
    expect(again.actions.find((a) => a.task === "mapping.cachedScale")?.cacheHit).toBe(true);
    expect(calls).toBe(3);
  });

  it("refuses a partial that names no parameter of the task or leaves two without a value", () => {
    expect(problemsOf(() => scale.partial({ factr: 2 })).map((p) => p.path)).toContain("factr");
    expect(problemsOf(() => scale.partial({ factr: 2 }))[0]?.message).toMatch(
      /its parameters: `x`, `factor`, `offset`/,
    );
    expect(problemsOf(() => scale.partial({ offset: 1 }))[0]?.message).toMatch(
      /items in `x` and nothing in `factor`/,
    );
    expect(problemsOf(() => scale.partial({ x: 1, factor: 2, offset: 3 }))[0]?.message).toMatch(
      /none left for the mapped items/,
    );
  });
});
