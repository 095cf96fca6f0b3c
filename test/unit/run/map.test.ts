import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";

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
});
