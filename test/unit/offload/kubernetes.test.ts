import { Job } from "kubernetes-models/batch/v1";
import { describe, expect, it } from "vitest";
import { GPU, TPU } from "../../../src/api/devices.js";
import { PodTemplate } from "../../../src/api/pod-template.js";
import { Resources } from "../../../src/api/resources.js";
import { RetryStrategy } from "../../../src/api/retry.js";
import { Secret } from "../../../src/api/secret.js";
import { TaskEnvironment } from "../../../src/api/task-environment.js";
import { Timeout } from "../../../src/api/timeout.js";
import { type JsonObject, jobFor, kubeName, labelValue } from "../../../src/offload/kubernetes.js";

const command = ["flyte-ts", "execute", "--inputs", "/data/in.v8", "--outputs-path", "/data/out"];

const trainEnv = new TaskEnvironment({
  name: "training",
  resources: new Resources({
    cpu: [2, "4"],
    memory: ["8Gi", "16Gi"],
    gpu: "A100:2",
    disk: "50Gi",
    shm: "2Gi",
  }),
  envVars: { LOG_LEVEL: "debug" },
  secrets: [
    "HF_TOKEN",
    new Secret({ key: "api-key", group: "openai" }),
    new Secret({ key: "cert", group: "tls", mount: "/etc/flyte/secrets" }),
  ],
});
const train = trainEnv.task(
  { retries: new RetryStrategy({ count: 3 }), timeout: "90m" },
  async function train(lr: number) {
    return lr;
  },
);

const migEnv = new TaskEnvironment({
  name: "mig",
  resources: new Resources({ cpu: 1, gpu: GPU("A100", 1, "1g.5gb") }),
});
const slice = migEnv.task(async function slice() {});

const tpuEnv = new TaskEnvironment({
  name: "tpu",
  resources: new Resources({ memory: "32Gi", gpu: TPU("V5P", "2x2x1"), shm: "auto" }),
});
const jaxStep = tpuEnv.task(async function jaxStep() {});

const templated = new TaskEnvironment({
  name: "templated",
  resources: new Resources({ cpu: "500m" }),
  envVars: { FROM_TASK: "1" },
  podTemplate: new PodTemplate({
    primaryContainerName: "main",
    labels: { team: "ml" },
    annotations: { "example.com/owner": "ml team" },
    podSpec: {
      tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }],
      containers: [
        {
          name: "main",
          image: "ghcr.io/org/custom:1",
          env: [{ name: "FROM_TEMPLATE", value: "2" }],
        },
        { name: "sidecar", image: "busybox", args: ["sleep", "infinity"] },
      ],
    },
  }),
});
const withTemplate = templated.task(async function withTemplate() {});

/** Validates against the Kubernetes OpenAPI schema; throws on any violation. */
function validate(job: JsonObject): void {
  new Job(job as never).validate();
}

function podSpec(job: JsonObject): JsonObject {
  return ((job.spec as JsonObject).template as JsonObject).spec as JsonObject;
}

function primary(job: JsonObject): JsonObject {
  return (podSpec(job).containers as JsonObject[])[0] as JsonObject;
}

describe("jobFor", () => {
  const job = jobFor({
    template: train,
    image: "ghcr.io/org/app:abc123",
    command,
    runName: "nightly_Run.7",
    actionName: "a0",
    namespace: "ml",
    serviceAccount: "trainer",
  });

  it("emits a batch/v1 Job the Kubernetes schema accepts", () => {
    expect(job.apiVersion).toBe("batch/v1");
    expect(job.kind).toBe("Job");
    expect(() => validate(job)).not.toThrow();
  });

  it("names and labels the Job by run and action", () => {
    const metadata = job.metadata as JsonObject;
    expect(metadata.name).toMatch(/^nightly-run-7-a0-[0-9a-f]{8}$/);
    expect(metadata.namespace).toBe("ml");
    expect(metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "flyte-ts",
      "flyte-ts.dev/run": "nightly_Run.7",
      "flyte-ts.dev/action": "a0",
      "flyte-ts.dev/task": "training.train",
    });
    const pod = (job.spec as JsonObject).template as JsonObject;
    expect((pod.metadata as JsonObject).labels).toEqual(metadata.labels);
  });

  it("runs the command in the image, with retries as backoffLimit and maxRuntime as the pod's deadline", () => {
    expect(primary(job).image).toBe("ghcr.io/org/app:abc123");
    expect([...(primary(job).command as string[]), ...(primary(job).args as string[])]).toEqual(
      command,
    );
    expect((job.spec as JsonObject).backoffLimit).toBe(3);
    expect(podSpec(job).activeDeadlineSeconds).toBe(5400);
    expect(podSpec(job).restartPolicy).toBe("Never");
    expect(podSpec(job).serviceAccountName).toBe("trainer");
  });

  it("sets cpu and memory requests and limits from pairs, ephemeral storage from disk, GPUs as limits", () => {
    expect(primary(job).resources).toEqual({
      requests: { cpu: "2", memory: "8Gi", "ephemeral-storage": "50Gi" },
      limits: { cpu: "4", memory: "16Gi", "nvidia.com/gpu": 2 },
    });
  });

  it("gives the Job an activeDeadlineSeconds from the task's deadline, over all its pods", () => {
    const timed = trainEnv.task(
      { timeout: new Timeout({ maxRuntime: "10m", deadline: "1h" }) },
      async function withDeadline() {},
    );
    const deadlineJob = jobFor({
      template: timed,
      image: "i",
      command,
      runName: "r",
      actionName: "a0",
    });
    validate(deadlineJob);
    expect((deadlineJob.spec as JsonObject).activeDeadlineSeconds).toBe(3600);
    expect(podSpec(deadlineJob).activeDeadlineSeconds).toBe(600);
    expect((job.spec as JsonObject).activeDeadlineSeconds).toBeUndefined();
  });

  it("emits the Kubernetes spelling of memory, disk and shm given in flyte's GiB and GB units", () => {
    const seedEnv = new TaskEnvironment({
      name: "seed-units",
      resources: new Resources({
        cpu: 1,
        memory: ["1GiB", "2GB"],
        gpu: "T4:1",
        disk: "10GiB",
        shm: "512MiB",
      }),
    });
    const seedTask = seedEnv.task(async function seedUnits() {});
    const seedJob = jobFor({
      template: seedTask,
      image: "i",
      command,
      runName: "r",
      actionName: "a0",
    });
    validate(seedJob);
    expect(primary(seedJob).resources).toEqual({
      requests: { cpu: "1", memory: "1Gi", "ephemeral-storage": "10Gi" },
      limits: { memory: "2G", "nvidia.com/gpu": 1 },
    });
    expect(podSpec(seedJob).volumes).toContainEqual({
      name: "flyte-shm",
      emptyDir: { medium: "Memory", sizeLimit: "512Mi" },
    });
  });

  it("selects the GPU model by the NVIDIA product label or the GKE accelerator label", () => {
    expect(podSpec(job).affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                {
                  key: "nvidia.com/gpu.product",
                  operator: "In",
                  values: ["NVIDIA-A100-SXM4-40GB"],
                },
              ],
            },
            {
              matchExpressions: [
                {
                  key: "cloud.google.com/gke-accelerator",
                  operator: "In",
                  values: ["nvidia-tesla-a100"],
                },
              ],
            },
          ],
        },
      },
    });
  });

  it("mounts /dev/shm as a memory emptyDir of the shm size", () => {
    expect(podSpec(job).volumes).toContainEqual({
      name: "flyte-shm",
      emptyDir: { medium: "Memory", sizeLimit: "2Gi" },
    });
    expect(primary(job).volumeMounts).toContainEqual({ name: "flyte-shm", mountPath: "/dev/shm" });
  });

  it("passes env vars as values and secrets only as secretKeyRef, never their values", () => {
    expect(primary(job).env).toEqual([
      { name: "LOG_LEVEL", value: "debug" },
      {
        name: "HF_TOKEN",
        valueFrom: {
          secretKeyRef: { name: "hf-token", key: "HF_TOKEN" },
        },
      },
      { name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "openai", key: "api-key" } } },
      { name: "TLS_CERT", valueFrom: { secretKeyRef: { name: "tls", key: "cert" } } },
    ]);
    const secretVolume = (podSpec(job).volumes as JsonObject[]).find((v) => v.secret !== undefined);
    expect(secretVolume?.secret).toEqual({
      secretName: "tls",
      items: [{ key: "cert", path: "cert" }],
    });
    expect(primary(job).volumeMounts).toContainEqual({
      name: secretVolume?.name as string,
      mountPath: "/etc/flyte/secrets/tls",
      readOnly: true,
    });
  });

  it("asks for a MIG partition as nvidia.com/mig-<profile>", () => {
    const mig = jobFor({ template: slice, image: "i:1", command, runName: "r", actionName: "b7" });
    expect(() => validate(mig)).not.toThrow();
    expect(primary(mig).resources).toEqual({
      requests: { cpu: "1" },
      limits: { "nvidia.com/mig-1g.5gb": 1 },
    });
    expect((mig.spec as JsonObject).backoffLimit).toBe(0);
    expect(podSpec(mig).activeDeadlineSeconds).toBeUndefined();
  });

  it("asks for a TPU slice as google.com/tpu with the GKE TPU selectors", () => {
    const tpu = jobFor({
      template: jaxStep,
      image: "i:1",
      command,
      runName: "r",
      actionName: "c1",
    });
    expect(() => validate(tpu)).not.toThrow();
    expect(primary(tpu).resources).toEqual({
      requests: { memory: "32Gi" },
      limits: { "google.com/tpu": 1 },
    });
    expect(podSpec(tpu).nodeSelector).toEqual({
      "cloud.google.com/gke-tpu-accelerator": "tpu-v5p-slice",
      "cloud.google.com/gke-tpu-topology": "2x2x1",
    });
    expect(podSpec(tpu).volumes).toEqual([{ name: "flyte-shm", emptyDir: { medium: "Memory" } }]);
  });

  it("merges the pod template: its primary container gets the command, resources and env; the rest is kept", () => {
    const merged = jobFor({
      template: withTemplate,
      image: "i:1",
      command,
      runName: "r",
      actionName: "a0",
    });
    expect(() => validate(merged)).not.toThrow();
    const containers = podSpec(merged).containers as JsonObject[];
    expect(containers.map((c) => c.name)).toEqual(["main", "sidecar"]);
    expect(containers[0]).toEqual({
      name: "main",
      image: "ghcr.io/org/custom:1",
      command: ["flyte-ts"],
      args: command.slice(1),
      env: [
        { name: "FROM_TASK", value: "1" },
        { name: "FROM_TEMPLATE", value: "2" },
      ],
      resources: { requests: { cpu: "500m" } },
    });
    expect(containers[1]).toEqual({
      name: "sidecar",
      image: "busybox",
      args: ["sleep", "infinity"],
    });
    expect(podSpec(merged).tolerations).toEqual([
      { key: "gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
    const metadata = ((merged.spec as JsonObject).template as JsonObject).metadata as JsonObject;
    expect(metadata.labels).toMatchObject({ team: "ml", "flyte-ts.dev/action": "a0" });
    expect(metadata.annotations).toEqual({ "example.com/owner": "ml team" });
  });

  it("would be caught by the schema if a field had the wrong type", () => {
    const broken = structuredClone(job);
    (broken.spec as JsonObject).backoffLimit = "three";
    expect(() => validate(broken)).toThrow();
  });
});

describe("Kubernetes names", () => {
  it("keeps valid names and makes others DNS-1123 labels with a hash of the original", () => {
    expect(kubeName("run-1-a0")).toBe("run-1-a0");
    expect(kubeName("My_Run.1")).toMatch(/^my-run-1-[0-9a-f]{8}$/);
    const long = kubeName(`a${"b".repeat(100)}`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(labelValue("x".repeat(80)).length).toBeLessThanOrEqual(63);
    expect(labelValue("-weird value-")).toBe("weird_value");
  });

  it("asks for a whole GPU for a fractional request and says so in the pod's annotations", () => {
    const shareEnv = new TaskEnvironment({
      name: "shares",
      resources: new Resources({ gpu: GPU("H100", 1, { fraction: 0.5 }) }),
    });
    const evaluate = shareEnv.task(async function evaluateShare() {});
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof write;
    let shared: JsonObject;
    try {
      shared = jobFor({ template: evaluate, image: "i", command, runName: "r", actionName: "a1" });
    } finally {
      process.stderr.write = write;
    }
    validate(shared);
    expect(primary(shared).resources).toEqual({ limits: { "nvidia.com/gpu": 1 } });
    const pod = (shared.spec as JsonObject).template as JsonObject;
    const annotations = (pod.metadata as JsonObject).annotations as JsonObject;
    expect(annotations["flyte-ts.dev/gpu-fraction"]).toBe("0.5");
    expect(annotations["flyte-ts.dev/gpu-fraction-note"]).toMatch(
      /asks for 0\.5 of a GPU, which Kubernetes cannot schedule .* 1 whole nvidia\.com\/gpu/,
    );
    expect(written.join("")).toContain("Task `shares.evaluateShare`: asks for 0.5 of a GPU");
  });
});
