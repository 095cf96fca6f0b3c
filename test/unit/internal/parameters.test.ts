import { describe, expect, it } from "vitest";
import { parametersOf } from "../../../src/internal/parameters.js";

describe("parametersOf", () => {
  it("reads names, defaults and rest parameters of functions and arrows", () => {
    expect(
      parametersOf(function f(a: number, b = 3, ...rest: number[]) {
        return [a, b, rest];
      }),
    ).toEqual([
      { name: "a", optional: false, rest: false },
      { name: "b", optional: true, rest: false, defaultSource: "3" },
      { name: "rest", optional: true, rest: true },
    ]);
    expect(parametersOf((x: string) => x).map((p) => p.name)).toEqual(["x"]);
    expect(parametersOf(async (x: string, y = "a,b") => x + y).map((p) => p.defaultSource)).toEqual(
      [undefined, '"a,b"'],
    );
  });

  it("names destructured parameters by position", () => {
    expect(
      parametersOf(({ a }: { a: number }, [b]: number[]) => a + (b ?? 0)).map((p) => p.name),
    ).toEqual(["arg0", "arg1"]);
  });

  it("skips comments and nested parentheses in defaults", () => {
    const fn = function g(/* first */ a: number, b = Math.max(1, 2) /* ) */) {
      return a + b;
    };
    expect(parametersOf(fn).map((p) => [p.name, p.defaultSource])).toEqual([
      ["a", undefined],
      ["b", "Math.max(1, 2)"],
    ]);
  });

  it("finds no parameters in a function without any", () => {
    expect(parametersOf(() => 1)).toEqual([]);
  });
});
