import {
  V1Container,
  V1ObjectMeta,
  V1PodSpec,
  V1PodTemplate,
  V1PodTemplateSpec,
} from "@kubernetes/client-node";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { PodTemplate, type PodTemplateOptions } from "../../../src/api/pod-template.js";
import { jobFor } from "../../../src/offload/kubernetes.js";
import { problemsOf } from "../../fixtures/config-problems.js";

describe("a V1PodTemplate as podTemplate", () => {
  it("is read from plain JSON: the pod's spec, labels and annotations, the task in primary", () => {
    const template = PodTemplate.fromV1({
      apiVersion: "v1",
      kind: "PodTemplate",
      metadata: { name: "gpu-pool" },
      template: {
        metadata: { labels: { team: "ml" }, annotations: { "example.com/owner": "ml" } },
        spec: {
          containers: [{ name: "primary" }, { name: "sidecar", image: "busybox" }],
          tolerations: [{ key: "gpu", operator: "Exists" }],
        },
      },
    });
    expect(template).toMatchObject({
      primaryContainerName: "primary",
      labels: { team: "ml" },
      annotations: { "example.com/owner": "ml" },
    });
    expect(template.podSpec.tolerations).toEqual([{ key: "gpu", operator: "Exists" }]);
  });

  it("is accepted from @kubernetes/client-node's class, running the task in its only container", () => {
    const container = new V1Container();
    container.name = "main";
    container.image = "ghcr.io/org/custom:1";
    const spec = new V1PodSpec();
    spec.containers = [container];
    spec.nodeSelector = { pool: "gpu" };
    const podTemplate = new V1PodTemplate();
    podTemplate.metadata = Object.assign(new V1ObjectMeta(), { name: "gpu-pool" });
    podTemplate.template = Object.assign(new V1PodTemplateSpec(), { spec });
    const env = new flyte.TaskEnvironment({ name: "v1-pod-template", podTemplate });
    expect(env.podTemplate).toBeInstanceOf(flyte.PodTemplate);
    const task = env.task(async function onGpuPool() {});
    const job = jobFor({
      template: task,
      image: "i",
      command: ["flyte-ts"],
      runName: "r",
      actionName: "a0",
    });
    const pod = (job.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    expect(pod.nodeSelector).toEqual({ pool: "gpu" });
    expect((pod.containers as { name: string; image: string }[])[0]).toMatchObject({
      name: "main",
      image: "ghcr.io/org/custom:1",
    });
  });
});

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
