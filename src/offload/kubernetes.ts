/**
 * Task → Kubernetes: {@link jobFor} turns one offloaded action into a `batch/v1` Job whose single
 * pod runs `flyte-ts execute` with the task's resources, devices, secrets and pod template.
 * The output is plain JSON data (what `kubectl apply` and the API server accept).
 * @module
 */
import type { Device } from "../api/devices.js";
import type { PodTemplate } from "../api/pod-template.js";
import { kubernetesQuantity, type Resources } from "../api/resources.js";
import type { Secret } from "../api/secret.js";
import type { TaskTemplate } from "../api/task.js";
import { sha256Hex } from "../internal/hash.js";
import { warnOnce } from "../internal/warn.js";

/** JSON data as emitted. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** The Kubernetes label keys flyte-ts puts on Jobs and pods. */
export const LABELS = {
  managedBy: "app.kubernetes.io/managed-by",
  run: "flyte-ts.dev/run",
  action: "flyte-ts.dev/action",
  task: "flyte-ts.dev/task",
} as const;

/**
 * The pod annotations that record a GPU share the cluster was not asked for: Kubernetes' device
 * plugin hands out whole GPUs only, so a fraction is emitted as one whole `nvidia.com/gpu`.
 */
export const GPU_FRACTION_ANNOTATIONS = {
  fraction: "flyte-ts.dev/gpu-fraction",
  note: "flyte-ts.dev/gpu-fraction-note",
} as const;

/** GPU models → the product label NVIDIA's GPU feature discovery puts on nodes. */
export const GPU_PRODUCT_LABELS: Readonly<Record<string, string>> = {
  T4: "Tesla-T4",
  L4: "NVIDIA-L4",
  L40s: "NVIDIA-L40S",
  A100: "NVIDIA-A100-SXM4-40GB",
  "A100 80G": "NVIDIA-A100-SXM4-80GB",
  H100: "NVIDIA-H100-80GB-HBM3",
  H200: "NVIDIA-H200",
};

/** GPU models → GKE's `cloud.google.com/gke-accelerator` node label (upstream's accelerator names). */
export const GKE_ACCELERATORS: Readonly<Record<string, string>> = {
  T4: "nvidia-tesla-t4",
  L4: "nvidia-l4",
  L40s: "nvidia-l40s",
  A100: "nvidia-tesla-a100",
  "A100 80G": "nvidia-a100-80gb",
  H100: "nvidia-h100-80gb",
  H200: "nvidia-h200-141gb",
};

/** TPU generations → GKE's `cloud.google.com/gke-tpu-accelerator` node label. */
export const GKE_TPU_ACCELERATORS: Readonly<Record<string, string>> = {
  V5P: "tpu-v5p-slice",
  V6E: "tpu-v6e-slice",
};

/** Options of {@link jobFor}. */
export interface JobOptions {
  /** The task to run. */
  template: TaskTemplate;
  /** The container image's uri. */
  image: string;
  /** The container's full command line (`flyte-ts execute ...`). */
  command: readonly string[];
  /** The run's name (a label, and part of the Job's name). */
  runName: string;
  /** The action's name (a label, and part of the Job's name). */
  actionName: string;
  /** The namespace to create the Job in. @default the kubeconfig context's namespace */
  namespace?: string;
  /** The pod's service account. @default the namespace's default */
  serviceAccount?: string;
}

/**
 * A DNS-1123 label (Kubernetes object names): lowercase letters, digits and `-`, at most 63
 * characters; a too-long or changed name keeps a hash of the original at its end.
 */
export function kubeName(text: string): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  if (cleaned === text && cleaned.length <= 63 && cleaned !== "") return cleaned;
  const hash = sha256Hex(text).slice(0, 8);
  return `${cleaned.slice(0, 54).replace(/-$/, "")}-${hash}`.replace(/^-/, "");
}

/** A label value: letters, digits, `-`, `_`, `.`, at most 63 characters, alphanumeric at both ends. */
export function labelValue(text: string): string {
  const cleaned = text
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  if (cleaned.length <= 63) return cleaned;
  return `${cleaned.slice(0, 54).replace(/[^A-Za-z0-9]+$/, "")}-${sha256Hex(text).slice(0, 8)}`;
}

/**
 * The Job that runs one offloaded action.
 * - resources: cpu and memory requests (a `[request, limit]` pair sets the limit too),
 *   `ephemeral-storage` from `disk`; GPUs as `nvidia.com/gpu` limits (a MIG partition as
 *   `nvidia.com/mig-<profile>`), a GPU model as a node affinity on `nvidia.com/gpu.product` or
 *   `cloud.google.com/gke-accelerator`; TPUs as `google.com/tpu` plus the GKE TPU selectors;
 *   a GPU share (`gpu: 0.5`) as one whole `nvidia.com/gpu` — Kubernetes cannot be asked for part
 *   of a GPU — with the share in the pod annotations {@link GPU_FRACTION_ANNOTATIONS} and a warning;
 * - `/dev/shm` as a memory-backed `emptyDir` sized by `shm`;
 * - secrets as `secretKeyRef` environment variables (Secret name = group, or the key when there
 *   is no group), never their values; `envVars` as plain variables;
 * - the pod's `activeDeadlineSeconds` from `maxRuntime` (per attempt), the Job's from `deadline`
 *   (all attempts), `backoffLimit` from retries;
 * - the task's `podTemplate` as the pod's starting point, its primary container receiving the above.
 * @example
 * ```ts
 * const job = jobFor({ template: train, image: "ghcr.io/org/app:abc", command, runName: "r1", actionName: "a0" });
 * ```
 */
export function jobFor(options: JobOptions): JsonObject {
  const { template, runName, actionName } = options;
  const labels: Record<string, string> = {
    [LABELS.managedBy]: "flyte-ts",
    [LABELS.run]: labelValue(runName),
    [LABELS.action]: labelValue(actionName),
    [LABELS.task]: labelValue(template.name),
  };
  const pod = podFor(options, template.podTemplate, labels);
  const metadata: JsonObject = {
    name: kubeName(`${runName}-${actionName}`),
    labels: { ...labels },
  };
  if (options.namespace !== undefined) metadata.namespace = options.namespace;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata,
    spec: {
      backoffLimit: template.retries.count,
      // The Job's own deadline covers every pod it retries: the action's `deadline`.
      ...(template.timeout.deadlineMs === undefined
        ? {}
        : { activeDeadlineSeconds: Math.ceil(template.timeout.deadlineMs / 1000) }),
      template: pod,
    },
  };
}

function podFor(
  options: JobOptions,
  podTemplate: string | PodTemplate | undefined,
  labels: Record<string, string>,
): JsonObject {
  const { template } = options;
  const fromTemplate = typeof podTemplate === "object" ? podTemplate : undefined;
  const spec = structuredClone((fromTemplate?.podSpec ?? {}) as JsonObject);
  const primaryName = fromTemplate?.primaryContainerName ?? "primary";
  const containers = Array.isArray(spec.containers) ? (spec.containers as JsonObject[]) : [];
  const index = containers.findIndex((c) => c.name === primaryName);
  const existing = index === -1 ? { name: primaryName } : (containers[index] as JsonObject);
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as JsonObject[]) : [];
  const mounts = Array.isArray(existing.volumeMounts) ? (existing.volumeMounts as Json[]) : [];
  const device = template.resources?.getDevice() ?? null;
  const resources = containerResources(template.resources, device);
  const shm = template.resources?.getSharedMemory() ?? null;
  if (shm !== null) {
    volumes.push({
      name: "flyte-shm",
      emptyDir:
        shm === ""
          ? { medium: "Memory" }
          : { medium: "Memory", sizeLimit: kubernetesQuantity(shm) },
    });
    mounts.push({ name: "flyte-shm", mountPath: "/dev/shm" });
  }
  for (const secret of template.secrets.filter((s) => s.mount !== undefined)) {
    const name = `secret-${secret.identity}`;
    volumes.push({
      name,
      secret: { secretName: secretName(secret), items: [{ key: secret.key, path: secret.key }] },
    });
    const folder = secret.group === undefined ? "" : `/${secret.group}`;
    mounts.push({ name, mountPath: `${secret.mount}${folder}`, readOnly: true });
  }
  const env: Json[] = [
    ...Object.entries(template.envVars).map(([name, value]) => ({ name, value })),
    ...template.secrets.map((secret) => ({
      name: secret.envVarName,
      valueFrom: { secretKeyRef: { name: secretName(secret), key: secret.key } },
    })),
    ...(Array.isArray(existing.env) ? (existing.env as Json[]) : []),
  ];
  const [command, ...args] = options.command;
  const primary: JsonObject = {
    ...existing,
    name: primaryName,
    image: typeof existing.image === "string" ? existing.image : options.image,
    command: [command ?? "flyte-ts"],
    args,
    env,
  };
  if (Object.keys(resources).length > 0) primary.resources = resources;
  if (mounts.length > 0) primary.volumeMounts = mounts;
  if (index === -1) containers.unshift(primary);
  else containers[index] = primary;
  spec.containers = containers;
  if (volumes.length > 0) spec.volumes = volumes;
  spec.restartPolicy = "Never";
  if (options.serviceAccount !== undefined) spec.serviceAccountName = options.serviceAccount;
  const maxRuntimeMs = template.timeout.maxRuntimeMs;
  if (maxRuntimeMs !== undefined && maxRuntimeMs > 0)
    spec.activeDeadlineSeconds = Math.ceil(maxRuntimeMs / 1000);
  placeDevice(spec, device);
  const metadata: JsonObject = { labels: { ...fromTemplate?.labels, ...labels } };
  const annotations: JsonObject = { ...fromTemplate?.annotations };
  if (device?.fraction !== undefined) {
    annotations[GPU_FRACTION_ANNOTATIONS.fraction] = String(device.fraction);
    annotations[GPU_FRACTION_ANNOTATIONS.note] = fractionNote(device.fraction);
    warnOnce(`Task \`${template.name}\`: ${fractionNote(device.fraction)}`);
  }
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { metadata, spec };
}

/**
 * The Kubernetes Secret a secret is read from: its group (or its key when it has none), lowercased
 * with characters a Secret name cannot hold turned into `-`: `HF_TOKEN` → `hf-token`.
 */
export function secretName(secret: Secret): string {
  return (secret.group ?? secret.key)
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "")
    .slice(0, 253);
}

function quantity(value: number | string): string {
  return typeof value === "number" ? String(value) : kubernetesQuantity(value);
}

function containerResources(resources: Resources | undefined, device: Device | null): JsonObject {
  const requests: JsonObject = {};
  const limits: JsonObject = {};
  if (resources !== undefined) {
    const { cpu, memory, disk } = resources;
    if (Array.isArray(cpu)) {
      requests.cpu = quantity(cpu[0]);
      limits.cpu = quantity(cpu[1]);
    } else if (cpu !== undefined) requests.cpu = quantity(cpu as number | string);
    if (Array.isArray(memory)) {
      requests.memory = quantity(memory[0] as string);
      limits.memory = quantity(memory[1] as string);
    } else if (memory !== undefined) requests.memory = quantity(memory as string);
    if (disk !== undefined) requests["ephemeral-storage"] = quantity(disk);
  }
  if (device !== null) {
    // Extended resources are set as limits only; Kubernetes copies them into requests.
    limits[deviceResource(device)] = device.quantity;
  }
  const out: JsonObject = {};
  if (Object.keys(requests).length > 0) out.requests = requests;
  if (Object.keys(limits).length > 0) out.limits = limits;
  return out;
}

function fractionNote(fraction: number): string {
  return (
    `asks for ${fraction} of a GPU, which Kubernetes cannot schedule (its device plugin hands out whole GPUs), ` +
    "so the Job asks for 1 whole nvidia.com/gpu. To share GPUs on the cluster, enable the NVIDIA device plugin's " +
    "time-slicing or MPS (then one nvidia.com/gpu is a share), or ask for a MIG partition."
  );
}

function deviceResource(device: Device): string {
  if (device.kind === "tpu") return "google.com/tpu";
  return device.partition === undefined ? "nvidia.com/gpu" : `nvidia.com/mig-${device.partition}`;
}

function placeDevice(spec: JsonObject, device: Device | null): void {
  if (device === null || device.device === undefined) return;
  const selector = { ...((spec.nodeSelector as JsonObject | undefined) ?? {}) };
  if (device.kind === "tpu") {
    const accelerator = GKE_TPU_ACCELERATORS[device.device];
    if (accelerator !== undefined) selector["cloud.google.com/gke-tpu-accelerator"] = accelerator;
    if (device.partition !== undefined) {
      selector["cloud.google.com/gke-tpu-topology"] = device.partition;
    }
    spec.nodeSelector = selector;
    return;
  }
  // Either label identifies the model; nodeSelectorTerms are ORed, nodeSelector entries ANDed.
  const terms: Json[] = [];
  const product = GPU_PRODUCT_LABELS[device.device];
  if (product !== undefined) {
    terms.push({
      matchExpressions: [{ key: "nvidia.com/gpu.product", operator: "In", values: [product] }],
    });
  }
  const gke = GKE_ACCELERATORS[device.device];
  if (gke !== undefined) {
    terms.push({
      matchExpressions: [
        { key: "cloud.google.com/gke-accelerator", operator: "In", values: [gke] },
      ],
    });
  }
  if (terms.length === 0) return;
  const affinity = { ...((spec.affinity as JsonObject | undefined) ?? {}) };
  affinity.nodeAffinity = {
    ...((affinity.nodeAffinity as JsonObject | undefined) ?? {}),
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms },
  };
  spec.affinity = affinity;
}
