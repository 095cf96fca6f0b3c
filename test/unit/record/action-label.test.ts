import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { actionLabel, namedInputs } from "../../../src/record/action-label.js";
import { previewValue } from "../../../src/record/value-preview.js";

const env = new flyte.TaskEnvironment({ name: "labels", runtime: "inline" });
const train = env.task(async function train(lr: number, seed: number, tag = "x", extra = 0) {
  return lr * seed + tag.length + extra;
});
const named = env.task({ shortName: "fit" }, async function fitModel(lr: number) {
  return lr;
});

describe("action labels", () => {
  it("name an action by its function and leading inputs", () => {
    expect(actionLabel(train.name, train.displayName, train.parameters, [0.01, 2])).toBe(
      "train(lr=0.01, seed=2)",
    );
    expect(actionLabel(train.name, undefined, train.parameters, [1, 2, "a", 4])).toBe(
      'train(lr=1, seed=2, tag="a", …)',
    );
    expect(actionLabel(train.name, undefined, train.parameters, [])).toBe("train");
  });

  it("use the task's shortName, from its options or an override", () => {
    expect(named.shortName).toBe("fit");
    expect(actionLabel(named.name, named.displayName, named.parameters, [1])).toBe("fit");
    const sweep = train.override({ shortName: "sweep-point" });
    expect(actionLabel(sweep.name, sweep.displayName, sweep.parameters, [1, 2])).toBe(
      "sweep-point",
    );
    expect(() => train.override({ shortName: "" })).toThrow(
      /Expected `shortName` to be a non-empty string/,
    );
  });

  it("stay short whatever the inputs", () => {
    const label = actionLabel(train.name, undefined, train.parameters, ["x".repeat(10_000), 1]);
    expect(label.length).toBeLessThanOrEqual(72);
    expect(label).toMatch(/^train\(lr="x+…"/);
  });

  it("are shown in runs: each action records its label and inputs", async () => {
    const run = await flyte
      .withRunContext({
        cacheDir: `${process.env.TMPDIR ?? "/tmp"}/flyte-ts-labels-${process.pid}`,
      })
      .run(train, 0.5, 4);
    expect(run.actions[0]).toMatchObject({
      label: "train(lr=0.5, seed=4)",
      inputs: [
        { name: "lr", preview: "0.5" },
        { name: "seed", preview: "4" },
      ],
      output: "3",
    });
  });
});

describe("value previews", () => {
  it("show values JSON cannot, and cut long ones", () => {
    expect(previewValue(new Map([["a", 1n]]))).toBe('Map(1) {"a" => 1n}');
    expect(previewValue(new Uint8Array(1024))).toBe("Uint8Array(1024)");
    expect(previewValue(Array.from({ length: 1_000_000 }, (_, i) => i))).toBe(
      "[0, 1, 2, 3, 4, 5, 6, 7, … 999992 more]",
    );
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(previewValue(cyclic)).toBe("{a: 1, self: [Circular]}");
    expect(previewValue("y".repeat(1000), 50).length).toBeLessThanOrEqual(50);
  });

  it("name each input by its parameter, rest parameters included", () => {
    const spread = env.task(async function spread(first: string, ...rest: number[]) {
      return [first, ...rest];
    });
    expect(namedInputs(spread.parameters, ["a", 1, 2]).map((i) => i.name)).toEqual([
      "first",
      "rest",
      "rest",
    ]);
  });
});
