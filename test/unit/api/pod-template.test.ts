import { describe, expect, it } from "vitest";
import { PodTemplate, type PodTemplateOptions } from "../../../src/api/pod-template.js";
import { problemsOf } from "../../fixtures/config-problems.js";

describe("PodTemplate", () => {
  it("defaults the primary container name to primary", () => {
    const template = new PodTemplate();
    expect(template).toMatchObject({
      primaryContainerName: "primary",
      podSpec: {},
      labels: {},
      annotations: {},
    });
  });

  it("deep-copies and freezes the pod spec", () => {
    const podSpec = { tolerations: [{ key: "gpu", operator: "Exists" }] };
    const template = new PodTemplate({ podSpec, labels: { team: "ml" } });
    podSpec.tolerations.push({ key: "x", operator: "Equal" });
    expect(template.podSpec).toEqual({ tolerations: [{ key: "gpu", operator: "Exists" }] });
    expect(Object.isFrozen((template.podSpec.tolerations as object[])[0])).toBe(true);
    expect(Object.isFrozen(template.labels)).toBe(true);
  });

  it("accepts prefixed label and annotation keys", () => {
    const template = new PodTemplate({
      labels: { "app.kubernetes.io/name": "trainer" },
      annotations: { "example.com/note": "any text, even spaces" },
    });
    expect(template.labels["app.kubernetes.io/name"]).toBe("trainer");
  });

  it("lists every invalid option with its path", () => {
    const problems = problemsOf(
      () =>
        new PodTemplate({
          primaryContainerName: "Main_Container",
          podSpec: { f: () => 1 },
          labels: { team: 7, "bad key!": "x", ok: "no spaces" },
          annotations: { "-x": "y" },
        } as unknown as PodTemplateOptions),
    );
    expect(problems.map((p) => p.path)).toEqual([
      "primaryContainerName",
      "podSpec",
      "labels.team",
      "labels.bad key!",
      "labels.ok",
      "annotations.-x",
    ]);
  });
});
