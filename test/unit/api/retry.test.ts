import { describe, expect, it } from "vitest";
import { type RetryOptions, RetryStrategy } from "../../../src/api/retry.js";
import { problemsOf } from "../../fixtures/config-problems.js";

describe("RetryStrategy", () => {
  it("defaults to a factor of 2 and a 60 s cap", () => {
    const retry = new RetryStrategy({ count: 3 });
    expect(retry).toMatchObject({ count: 3, backoffMs: 60_000, backoffFactor: 2 });
    expect(retry.maxAttempts).toBe(4);
    expect(Object.isFrozen(retry)).toBe(true);
  });

  it("waits 0.5 s times the factor to the retry index, up to the cap", () => {
    const retry = new RetryStrategy({ count: 10, backoff: 5, backoffFactor: 2 });
    expect([0, 1, 2, 3, 4, 5].map((n) => retry.delayMs(n))).toEqual([
      500, 1000, 2000, 4000, 5000, 5000,
    ]);
  });

  it("keeps every wait at 0.5 s with factor 1", () => {
    const retry = new RetryStrategy({ count: 2, backoffFactor: 1 });
    expect([retry.delayMs(0), retry.delayMs(7)]).toEqual([500, 500]);
  });

  it("retries at once with backoff 0", () => {
    const retry = new RetryStrategy({ count: 2, backoff: 0 });
    expect([retry.delayMs(0), retry.delayMs(3)]).toEqual([0, 0]);
  });

  it("accepts durations with units for the cap", () => {
    expect(new RetryStrategy({ count: 1, backoff: "2m" }).backoffMs).toBe(120_000);
    expect(new RetryStrategy({ count: 1, backoff: "250ms" }).delayMs(0)).toBe(250);
  });

  it("stays at the cap for very large retry indexes", () => {
    expect(new RetryStrategy({ count: 1 }).delayMs(5000)).toBe(60_000);
  });

  it("builds from a retry count and returns a RetryStrategy unchanged", () => {
    expect(RetryStrategy.from(5).count).toBe(5);
    const retry = new RetryStrategy({ count: 1 });
    expect(RetryStrategy.from(retry)).toBe(retry);
    expect(RetryStrategy.from({ count: 2, backoffFactor: 3 }).delayMs(1)).toBe(1500);
  });

  it("rejects a retry index that is not a non-negative integer", () => {
    expect(() => new RetryStrategy({ count: 1 }).delayMs(-1)).toThrow(RangeError);
  });

  it("lists every invalid option with its path", () => {
    const problems = problemsOf(
      () => new RetryStrategy({ count: -1, backoff: "soon", backoffFactor: 0.5 } as RetryOptions),
    );
    expect(problems.map((p) => p.path)).toEqual(["count", "backoff", "backoffFactor"]);
    expect(problems[0]?.message).toBe("Expected `count` to be an integer of 0 or more, got -1.");
    expect(problems[2]?.message).toMatch(/Use 1 for a constant wait/);
  });

  it("rejects an infinite factor and a fractional count", () => {
    const problems = problemsOf(
      () => new RetryStrategy({ count: 1.5, backoffFactor: Number.POSITIVE_INFINITY }),
    );
    expect(problems.map((p) => p.path)).toEqual(["count", "backoffFactor"]);
  });
});
