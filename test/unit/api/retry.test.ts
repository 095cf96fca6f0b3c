import { describe, expect, it } from "vitest";
import { Backoff } from "../../../src/api/backoff.js";
import { type RetryOptions, RetryStrategy } from "../../../src/api/retry.js";
import { problemsOf } from "../../fixtures/config-problems.js";

describe("Backoff", () => {
  it("waits base before the first retry, then times factor, at most cap", () => {
    const backoff = new Backoff({ base: 1, factor: 2, cap: 5 });
    expect([0, 1, 2, 3, 4].map((n) => backoff.delayMs(n))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(Object.isFrozen(backoff)).toBe(true);
  });

  it("keeps a constant wait of base with the default factor 1 and needs no cap then", () => {
    const backoff = new Backoff({ base: "250ms" });
    expect([0, 7].map((n) => backoff.delayMs(n))).toEqual([250, 250]);
    expect(backoff).toMatchObject({ baseMs: 250, factor: 1, capMs: undefined });
  });

  it("requires a cap for a growing backoff, as upstream", () => {
    const problems = problemsOf(() => new Backoff({ base: 1, factor: 2 }));
    expect(problems.map((p) => p.path)).toEqual(["cap"]);
    expect(problems[0]?.message).toMatch(/needs a `cap`/);
  });

  it("lists a missing base, a factor below 1 and a negative cap with their paths", () => {
    const problems = problemsOf(
      () => new Backoff({ factor: 0.5, cap: -1 } as unknown as { base: number }),
    );
    expect(problems.map((p) => p.path)).toEqual(["base", "factor", "cap"]);
  });
});

describe("RetryStrategy", () => {
  it("defaults to 0.5 s doubling per retry, at most 60 s", () => {
    const retry = new RetryStrategy({ count: 3 });
    expect(retry.backoff).toMatchObject({ baseMs: 500, factor: 2, capMs: 60_000 });
    expect([0, 1, 2, 10].map((n) => retry.delayMs(n))).toEqual([500, 1000, 2000, 60_000]);
    expect(retry.maxAttempts).toBe(4);
    expect(Object.isFrozen(retry)).toBe(true);
  });

  it("takes a Backoff, or its options, as upstream's RetryStrategy(backoff=Backoff(...))", () => {
    const backoff = new Backoff({ base: 10, factor: 2, cap: 300 });
    const retry = new RetryStrategy({ count: 5, backoff });
    expect(retry.backoff).toBe(backoff);
    expect([0, 1, 2, 5].map((n) => retry.delayMs(n))).toEqual([10_000, 20_000, 40_000, 300_000]);
    const fromOptions = new RetryStrategy({ count: 2, backoff: { base: "1s", factor: 3, cap: 5 } });
    expect([0, 1, 2].map((n) => fromOptions.delayMs(n))).toEqual([1000, 3000, 5000]);
  });

  it("reads a number or duration backoff as the first wait, not as a cap", () => {
    const constant = new RetryStrategy({ count: 3, backoff: 10 });
    expect([0, 1, 2].map((n) => constant.delayMs(n))).toEqual([10_000, 10_000, 10_000]);
    const seed = new RetryStrategy({ count: 4, backoff: "250ms", backoffFactor: 2 });
    expect([0, 1, 2, 3].map((n) => seed.delayMs(n))).toEqual([250, 500, 1000, 2000]);
  });

  it("retries at once with backoff 0", () => {
    const retry = new RetryStrategy({ count: 2, backoff: 0 });
    expect([retry.delayMs(0), retry.delayMs(3)]).toEqual([0, 0]);
  });

  it("grows the default 0.5 s wait by backoffFactor when no backoff is given", () => {
    expect(RetryStrategy.from({ count: 2, backoffFactor: 3 }).delayMs(1)).toBe(1500);
    const flat = new RetryStrategy({ count: 2, backoffFactor: 1 });
    expect([flat.delayMs(0), flat.delayMs(7)]).toEqual([500, 500]);
  });

  it("builds from a retry count and returns a RetryStrategy unchanged", () => {
    expect(RetryStrategy.from(5).count).toBe(5);
    const retry = new RetryStrategy({ count: 1 });
    expect(RetryStrategy.from(retry)).toBe(retry);
  });

  it("rejects a retry index that is not a non-negative integer", () => {
    expect(() => new RetryStrategy({ count: 1 }).delayMs(-1)).toThrow(RangeError);
  });

  it("refuses backoffFactor beside a Backoff, which has its own factor", () => {
    const problems = problemsOf(
      () => new RetryStrategy({ count: 1, backoff: { base: 1 }, backoffFactor: 2 }),
    );
    expect(problems.map((p) => p.path)).toEqual(["backoffFactor"]);
    expect(problems[0]?.message).toMatch(/give its `factor` instead/);
  });

  it("lists every invalid option with its path", () => {
    const problems = problemsOf(
      () => new RetryStrategy({ count: -1, backoff: "soon" } as RetryOptions),
    );
    expect(problems.map((p) => p.path)).toEqual(["count", "backoff"]);
    expect(problems[0]?.message).toBe("Expected `count` to be an integer of 0 or more, got -1.");
    const factor = problemsOf(() => new RetryStrategy({ count: 1, backoffFactor: 0.5 }));
    expect(factor[0]?.message).toMatch(/Use 1 for a constant wait/);
  });

  it("rejects an infinite factor and a fractional count", () => {
    const problems = problemsOf(
      () => new RetryStrategy({ count: 1.5, backoffFactor: Number.POSITIVE_INFINITY }),
    );
    expect(problems.map((p) => p.path)).toEqual(["count", "backoffFactor"]);
  });
});
