/**
 * A Kubernetes pod spec to start from when a task is offloaded to a cluster: {@link PodTemplate}.
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";

/** Options of {@link PodTemplate}. */
export interface PodTemplateOptions {
  /**
   * The name of the container in `podSpec` that runs the task; the emitter fills in its image,
   * command, resources and environment.
   * @default "primary"
   */
  primaryContainerName?: string;
  /** A Kubernetes `PodSpec` as plain JSON-like data (tolerations, volumes, sidecars, ...). @default {} */
  podSpec?: Record<string, unknown>;
  /** Labels added to the pod. Keys and values follow Kubernetes label rules. @default {} */
  labels?: Record<string, string>;
  /** Annotations added to the pod. Keys follow Kubernetes rules; values are any strings. @default {} */
  annotations?: Record<string, string>;
}

/**
 * A Kubernetes `V1PodTemplate` — the seed's `pod_template` type — as plain JSON or as the
 * `V1PodTemplate` class of `@kubernetes/client-node`: the pod's labels, annotations and spec are
 * under `template`. Accepted wherever a {@link PodTemplate} is; see {@link PodTemplate.fromV1}.
 */
export interface V1PodTemplateLike {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  template?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: object;
  };
}

/** Whether `value` looks like a {@link V1PodTemplateLike} (has `template`, or `kind: "PodTemplate"`). */
export function isV1PodTemplate(value: unknown): value is V1PodTemplateLike {
  if (typeof value !== "object" || value === null || value instanceof PodTemplate) return false;
  const v = value as { kind?: unknown; template?: unknown };
  return v.kind === "PodTemplate" || (typeof v.template === "object" && v.template !== null);
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const labelName = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label or annotation key, or `undefined` when it is. */
function keyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !dnsSubdomain.test(prefix))) {
    return `its prefix ${describe(prefix)} is not a DNS subdomain such as "example.com"`;
  }
  if (name === "" || name.length > 63 || !labelName.test(name)) {
    return "its name must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether `value` is JSON-like data: null, booleans, finite numbers, strings, arrays and plain objects. */
function isJsonLike(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonLike(v, depth + 1));
  return isPlainObject(value) && Object.values(value).every((v) => isJsonLike(v, depth + 1));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function checkStringMap(
  problems: Problems,
  path: string,
  value: unknown,
  checkValue: (v: string) => string | undefined,
): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    problems.add(path, `Expected \`${path}\` to be an object of strings, got ${describe(value)}.`);
    return {};
  }
  for (const [key, v] of Object.entries(value)) {
    const badKey = keyProblem(key);
    if (badKey) problems.add(`${path}.${key}`, `Invalid key ${describe(key)}: ${badKey}.`);
    if (typeof v !== "string") {
      problems.add(
        `${path}.${key}`,
        `Expected a string value, got ${describe(v)}. Quote numbers and booleans.`,
      );
    } else {
      const badValue = checkValue(v);
      if (badValue) problems.add(`${path}.${key}`, badValue);
    }
  }
  return { ...(value as Record<string, string>) };
}

/**
 * A Kubernetes pod to run an offloaded task in: the emitter merges the task's container (image,
 * command, resources, environment, secrets) into the container named `primaryContainerName`.
 * Ignored when a task runs on this host.
 *
 * @example
 * ```ts
 * new flyte.PodTemplate({
 *   labels: { team: "ml" },
 *   podSpec: { tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }] },
 * });
 * ```
 */
export class PodTemplate {
  /** The container in `podSpec` that runs the task. */
  readonly primaryContainerName: string;
  /** The pod spec, deep-copied and frozen. */
  readonly podSpec: Readonly<Record<string, unknown>>;
  /** Pod labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** Pod annotations. */
  readonly annotations: Readonly<Record<string, string>>;

  /** @throws InvalidConfigError listing every invalid option, each with its path. */
  constructor(options: PodTemplateOptions = {}) {
    const problems = new Problems("PodTemplate");
    checkKeys(problems, options, ["primaryContainerName", "podSpec", "labels", "annotations"]);
    const { primaryContainerName = "primary", podSpec = {}, labels, annotations } = options ?? {};
    if (
      typeof primaryContainerName !== "string" ||
      primaryContainerName.length > 63 ||
      !dnsLabel.test(primaryContainerName)
    ) {
      problems.add(
        "primaryContainerName",
        `Expected \`primaryContainerName\` to be a Kubernetes container name (1 to 63 lowercase letters, digits and '-'), got ${describe(primaryContainerName)}.`,
      );
    }
    if (!isPlainObject(podSpec) || !isJsonLike(podSpec)) {
      problems.add(
        "podSpec",
        `Expected \`podSpec\` to be a Kubernetes PodSpec as plain JSON-like data (objects, arrays, strings, finite numbers, booleans, null), got ${describe(podSpec)}.`,
      );
    }
    const labelMap = checkStringMap(problems, "labels", labels, (v) =>
      v.length > 63 || !labelName.test(v)
        ? `Invalid label value ${describe(v)}: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.`
        : undefined,
    );
    const annotationMap = checkStringMap(problems, "annotations", annotations, () => undefined);
    problems.throwIfAny();
    this.primaryContainerName = primaryContainerName;
    this.podSpec = deepFreeze(structuredClone(podSpec));
    this.labels = Object.freeze(labelMap);
    this.annotations = Object.freeze(annotationMap);
    Object.freeze(this);
  }

  /**
   * A PodTemplate from a Kubernetes `V1PodTemplate` (plain JSON, or `@kubernetes/client-node`'s
   * class): its `template.spec` is the pod spec, `template.metadata` gives the pod's labels and
   * annotations. The task runs in the container named `primaryContainerName`: by default
   * `"primary"` when the spec has one, else the spec's only container, else a new `"primary"`.
   *
   * @throws InvalidConfigError when the spec is not JSON-like data or a label is invalid
   * @example
   * ```ts
   * PodTemplate.fromV1({ template: { spec: { containers: [{ name: "primary" }], tolerations: [...] } } });
   * ```
   */
  static fromV1(template: V1PodTemplateLike, primaryContainerName?: string): PodTemplate {
    // Class instances from client libraries become the JSON the API server would get.
    const json = JSON.parse(JSON.stringify(template ?? {})) as V1PodTemplateLike;
    const podSpec = (json.template?.spec ?? {}) as Record<string, unknown>;
    const names = Array.isArray(podSpec.containers)
      ? (podSpec.containers as { name?: unknown }[]).map((c) => c?.name)
      : [];
    const primary =
      primaryContainerName ??
      (names.includes("primary") || names.length !== 1 ? "primary" : String(names[0]));
    return new PodTemplate({
      primaryContainerName: primary,
      podSpec,
      ...(json.template?.metadata?.labels ? { labels: json.template.metadata.labels } : {}),
      ...(json.template?.metadata?.annotations
        ? { annotations: json.template.metadata.annotations }
        : {}),
    });
  }
}
