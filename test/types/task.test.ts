import * as flyte from "flyte-ts";
import { describe, expectTypeOf, it } from "vitest";

const env = new flyte.TaskEnvironment({ name: "types", runtime: "inline" });
const square = env.task(async function square(x: number) {
  return x * x;
});
const greet = env.task({ retries: 1 }, function greet(name: string, excited?: boolean) {
  return `hi ${name}${excited ? "!" : ""}`;
});

describe("task types", () => {
  it("keeps the function's parameters and awaited result", () => {
    expectTypeOf(square).parameters.toEqualTypeOf<[x: number]>();
    expectTypeOf(square).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(greet).parameters.toEqualTypeOf<[name: string, excited?: boolean]>();
    expectTypeOf(greet).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(greet.func).toEqualTypeOf<(name: string, excited?: boolean) => string>();
  });

  it("keeps the types through override", () => {
    expectTypeOf(square.override({ retries: 2 })).toEqualTypeOf<typeof square>();
  });

  it("types run outputs and map results", async () => {
    expectTypeOf(flyte.run(square, 2)).toEqualTypeOf<Promise<flyte.Run<number>>>();
    expectTypeOf(flyte.map(square, [1, 2], { returnExceptions: false })).toEqualTypeOf<
      flyte.MapResults<number>
    >();
    expectTypeOf(flyte.map(square, [1, 2])).toEqualTypeOf<flyte.MapResults<number | Error>>();
    expectTypeOf(flyte.trace(async (a: string) => a.length)).toEqualTypeOf<
      (a: string) => Promise<number>
    >();
  });

  it("rejects wrong arguments at compile time", () => {
    // @ts-expect-error a string is not a number
    void flyte.run(square, "2");
    // @ts-expect-error square takes one argument
    void square(1, 2);
    // @ts-expect-error map inputs must match the parameter
    void flyte.map(square, ["a"]);
  });
});

describe("parameters with defaults", () => {
  it("keeps the default's type for an unannotated parameter", () => {
    const withDefault = env.task(async function withDefault(n = 10) {
      return n * 2;
    });
    expectTypeOf(withDefault).parameters.toEqualTypeOf<[n?: number]>();
    expectTypeOf(withDefault).returns.toEqualTypeOf<Promise<number>>();
  });
});
