import { describe, expect, it } from "vitest";
import { Timeout, type TimeoutRequest } from "../../../src/api/timeout.js";
import { InvalidConfigError } from "../../../src/errors.js";
import { problemsOf } from "../../fixtures/config-problems.js";

describe("Timeout", () => {
  it("reads numbers as seconds and strings with units", () => {
    const timeout = new Timeout({ maxRuntime: 90, maxQueuedTime: "5m" });
    expect(timeout).toMatchObject({ maxRuntimeMs: 90_000, maxQueuedTimeMs: 300_000 });
    expect(new Timeout({ maxRuntime: "1h30m" }).maxRuntimeMs).toBe(5_400_000);
    expect(new Timeout({ maxRuntime: "500ms" }).maxRuntimeMs).toBe(500);
    expect(Object.isFrozen(timeout)).toBe(true);
  });

  it("treats 0 and a missing field as no limit", () => {
    expect(new Timeout({ maxRuntime: 0 })).toMatchObject({
      maxRuntimeMs: undefined,
      maxQueuedTimeMs: undefined,
    });
    expect(new Timeout().maxRuntimeMs).toBeUndefined();
  });

  it("builds from a duration as the max runtime", () => {
    expect(Timeout.from(60).maxRuntimeMs).toBe(60_000);
    expect(Timeout.from("2m").maxRuntimeMs).toBe(120_000);
    expect(Timeout.from({ maxQueuedTime: 10 }).maxQueuedTimeMs).toBe(10_000);
  });

  it("reads a deadline for the whole action, 0 meaning none", () => {
    expect(new Timeout({ deadline: "2h" }).deadlineMs).toBe(7_200_000);
    expect(new Timeout({ deadline: 0 }).deadlineMs).toBeUndefined();
    expect(Timeout.from({ maxRuntime: 60, deadline: 600 })).toMatchObject({
      maxRuntimeMs: 60_000,
      deadlineMs: 600_000,
    });
    expect(problemsOf(() => new Timeout({ deadline: "never" })).map((p) => p.path)).toEqual([
      "deadline",
    ]);
  });

  it("returns a Timeout unchanged from from()", () => {
    const timeout = new Timeout({ maxRuntime: 1 });
    expect(Timeout.from(timeout)).toBe(timeout);
  });

  it("rejects a request that is not a timeout", () => {
    expect(() => Timeout.from(true as unknown as TimeoutRequest)).toThrow(InvalidConfigError);
  });

  it("lists every invalid duration with its path", () => {
    const problems = problemsOf(() => new Timeout({ maxRuntime: -1, maxQueuedTime: "soon" }));
    expect(problems.map((p) => p.path)).toEqual(["maxRuntime", "maxQueuedTime"]);
    expect(problems[1]?.message).toMatch(/Expected a duration .*got "soon"/);
  });
});
