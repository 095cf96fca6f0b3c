import { describe, expect, it } from "vitest";
import { ReusePolicy, type ReusePolicyOptions } from "../../../src/api/reuse-policy.js";
import { problemsOf } from "../../fixtures/config-problems.js";

describe("ReusePolicy", () => {
  it("defaults to two replicas, concurrency 1 and no idle TTL", () => {
    const policy = new ReusePolicy();
    expect(policy).toMatchObject({
      minReplicas: 2,
      maxReplicas: 2,
      concurrency: 1,
      idleTtlMs: undefined,
      reuseSalt: undefined,
    });
    expect(policy.warnings).toEqual([]);
    expect(Object.isFrozen(policy)).toBe(true);
  });

  it("reads one number as a fixed pool and a pair as min and max", () => {
    expect(new ReusePolicy({ replicas: 3 })).toMatchObject({ minReplicas: 3, maxReplicas: 3 });
    const policy = new ReusePolicy({ replicas: [1, 4], concurrency: 2, idleTtl: "1m" });
    expect(policy).toMatchObject({ minReplicas: 1, maxReplicas: 4, idleTtlMs: 60_000 });
    expect(policy.capacity).toBe(8);
  });

  it("reads upstream's scaledownTtl for one worker above min, defaulting to idleTtl", () => {
    expect(new ReusePolicy({ idleTtl: "10m", scaledownTtl: 30 })).toMatchObject({
      idleTtlMs: 600_000,
      scaledownTtlMs: 30_000,
    });
    expect(new ReusePolicy({ idleTtl: 60 }).scaledownTtlMs).toBe(60_000);
    expect(new ReusePolicy({ scaledownTtl: 5 })).toMatchObject({
      idleTtlMs: undefined,
      scaledownTtlMs: 5000,
    });
    expect(problemsOf(() => new ReusePolicy({ scaledownTtl: "soon" })).map((p) => p.path)).toEqual([
      "scaledownTtl",
    ]);
  });

  it("warns, without failing, about one replica with concurrency 1", () => {
    const policy = new ReusePolicy({ replicas: 1 });
    expect(policy.warnings).toHaveLength(1);
    expect(policy.warnings[0]).toMatch(/Raise `replicas` or `concurrency`/);
    expect(new ReusePolicy({ replicas: 1, concurrency: 2 }).warnings).toEqual([]);
  });

  it("rejects min above max", () => {
    const problems = problemsOf(() => new ReusePolicy({ replicas: [4, 1] }));
    expect(problems).toEqual([
      { path: "replicas", message: expect.stringMatching(/min <= max, got \[4, 1\]/) },
    ]);
  });

  it("lists every invalid option with its path", () => {
    const problems = problemsOf(
      () =>
        new ReusePolicy({
          replicas: [0, 2.5],
          idleTtl: "forever",
          concurrency: 0,
          reuseSalt: "",
        } as ReusePolicyOptions),
    );
    expect(problems.map((p) => p.path)).toEqual([
      "replicas[0]",
      "replicas[1]",
      "idleTtl",
      "concurrency",
      "reuseSalt",
    ]);
  });

  it("rejects replicas that are neither a count nor a pair", () => {
    const problems = problemsOf(
      () => new ReusePolicy({ replicas: [1, 2, 3] as unknown as [number, number] }),
    );
    expect(problems[0]?.message).toMatch(/Expected `replicas` to be an integer of 1 or more/);
  });
});
