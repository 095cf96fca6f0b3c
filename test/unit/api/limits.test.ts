// maxConcurrency and rateLimit on environments, tasks and overrides: validated at definition
// time, every problem with its path; each limit carried with the scope it is counted in.
import { describe, expect, it } from "vitest";
import { RateLimit } from "../../../src/api/limits.js";
import { TaskEnvironment } from "../../../src/api/task-environment.js";
import { InvalidConfigError } from "../../../src/errors.js";

function problemsOf(make: () => unknown): { path: string; message: string }[] {
  try {
    make();
  } catch (error) {
    if (error instanceof InvalidConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected an InvalidConfigError");
}

describe("RateLimit", () => {
  it("reads a window in seconds or with a unit", () => {
    expect(new RateLimit({ max: 10, per: "1s" }).perMs).toBe(1000);
    expect(new RateLimit({ max: 1, per: "500ms" }).perMs).toBe(500);
    expect(new RateLimit({ max: 3, per: "2m" }).perMs).toBe(120_000);
    expect(new RateLimit({ max: 3, per: 0.25 }).perMs).toBe(250);
    expect(String(new RateLimit({ max: 10, per: "1s" }))).toBe("10 per 1.0s");
  });

  it("rejects a rate of 0, a negative or fractional max, an unknown unit and a zero window", () => {
    expect(problemsOf(() => new RateLimit({ max: 0, per: "1s" }))).toEqual([
      { path: "max", message: expect.stringMatching(/integer of 1 or more.*got 0.*A rate of 0/s) },
    ]);
    expect(problemsOf(() => new RateLimit({ max: -1, per: "1s" }))[0]?.path).toBe("max");
    expect(problemsOf(() => new RateLimit({ max: 2.5, per: "1s" }))[0]?.message).toContain(
      "got 2.5",
    );
    expect(problemsOf(() => new RateLimit({ max: 1, per: "1 fortnight" }))).toEqual([
      { path: "per", message: expect.stringContaining('got "1 fortnight"') },
    ]);
    expect(problemsOf(() => new RateLimit({ max: 1, per: 0 }))[0]?.path).toBe("per");
    expect(problemsOf(() => new RateLimit({ max: 1, per: "0s" }))[0]?.path).toBe("per");
    // Both at once, each with its path.
    expect(problemsOf(() => new RateLimit({ max: 0, per: "1y" })).map((p) => p.path)).toEqual([
      "max",
      "per",
    ]);
  });
});

describe("limits on environments, tasks and overrides", () => {
  it("names the path of a bad limit on an environment", () => {
    const problems = problemsOf(
      () =>
        new TaskEnvironment({
          name: "bad-limits",
          maxConcurrency: 0,
          rateLimit: { max: 0, per: "1w" },
        }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      "maxConcurrency",
      "rateLimit.max",
      "rateLimit.per",
    ]);
  });

  it("names the path of a bad limit on a task and on an override", () => {
    const env = new TaskEnvironment({ name: "task-limits", runtime: "inline" });
    expect(
      problemsOf(() =>
        env.task(
          { maxConcurrency: 1.5, rateLimit: { max: 1, per: "soon" } },
          async function t() {},
        ),
      ).map((p) => p.path),
    ).toEqual(["maxConcurrency", "rateLimit.per"]);
    const ok = env.task(async function ok() {});
    expect(problemsOf(() => ok.override({ rateLimit: { max: -2, per: "1s" } }))).toEqual([
      { path: "rateLimit.max", message: expect.stringContaining("got -2") },
    ]);
  });

  it("gives tasks their environment's limits, counted per environment, and their own per task", () => {
    const env = new TaskEnvironment({
      name: "llm",
      runtime: "inline",
      maxConcurrency: 4,
      rateLimit: { max: 10, per: "1s" },
    });
    const ask = env.task(async function ask() {});
    expect(ask.limits).toEqual({
      concurrency: { scope: "environment `llm`", max: 4 },
      rate: { scope: "environment `llm`", max: 10, perMs: 1000 },
    });
    const embed = env.task({ rateLimit: { max: 2, per: "1m" } }, async function embed() {});
    expect(embed.limits).toEqual({
      concurrency: { scope: "environment `llm`", max: 4 },
      rate: { scope: "task `llm.embed`", max: 2, perMs: 60_000 },
    });
    const slow = ask.override({ maxConcurrency: 1 });
    expect(slow.limits?.concurrency).toEqual({ scope: "task `llm.ask`", max: 1 });
    expect(slow.limits?.rate).toEqual(ask.limits?.rate);
    expect(slow.overrides?.limits).toEqual(slow.limits);
    const plain = new TaskEnvironment({ name: "plain", runtime: "inline" });
    expect(plain.task(async function free() {}).limits).toBeUndefined();
  });

  it("keeps limits in an environment's copy", () => {
    const env = new TaskEnvironment({
      name: "api",
      maxConcurrency: 2,
      rateLimit: { max: 5, per: 1 },
    });
    const copy = env.cloneWith({ name: "api-copy" });
    expect(copy.maxConcurrency).toBe(2);
    expect(copy.rateLimit?.perMs).toBe(1000);
    expect(copy.limits?.concurrency?.scope).toBe("environment `api-copy`");
  });
});
