/**
 * A task's identity across threads and processes: its module, its name, and which override it
 * is. A task called from a worker reaches the controller as this reference, so an override, a
 * batched `flyte.map` and a map over an override keep their settings wherever the caller runs.
 *
 * An override travels as the settings it changed (retries, timeout, cache, resources, …), each
 * tagged with its class so the controller rebuilds the same immutable value.
 * @module
 */
import { Backoff } from "./backoff.js";
import { Cache, FunctionBodyPolicy } from "./cache.js";
import { Device } from "./devices.js";
import { Resources, type ResourcesOptions } from "./resources.js";
import { RetryStrategy } from "./retry.js";
import { ReusePolicy } from "./reuse-policy.js";
import { Secret } from "./secret.js";
import type { TaskTemplate } from "./task.js";
import { Timeout } from "./timeout.js";

/** The settings an override changed, as plain data (see {@link encodeSetting}). */
export type OverrideData = Readonly<Record<string, unknown>>;

/** How a task is named across threads and processes. */
export interface TaskRef {
  /** The module where `env.task` was called, or `undefined` for a task made elsewhere. */
  readonly module: string | undefined;
  /** The task's full name, `"<env>.<function>"`. */
  readonly name: string;
  /** The settings its override chain changed, when it is an override. */
  readonly overrides?: OverrideData | undefined;
}

// Value classes rebuilt by prototype: their whole state is in public readonly fields (a unit test
// round-trips each, so a private field added later fails there). Resources keeps a private
// parsed device: it is rebuilt through its constructor from its public options.
const classes = {
  Backoff,
  Cache,
  FunctionBodyPolicy,
  Device,
  Resources,
  RetryStrategy,
  ReusePolicy,
  Secret,
  Timeout,
} as const;
type ClassName = keyof typeof classes;
const tag = "$flyteClass";

function classNameOf(value: object): ClassName | undefined {
  for (const name of Object.keys(classes) as ClassName[]) {
    if (Object.getPrototypeOf(value) === classes[name].prototype) return name;
  }
  return undefined;
}

/**
 * A setting as plain data: instances of flyte-ts's value classes become `{ $flyteClass, …fields }`.
 * @throws TypeError for an object of another class (a custom cache policy), which cannot travel
 */
export function encodeSetting(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(encodeSetting);
  const name = classNameOf(value);
  const proto = Object.getPrototypeOf(value);
  if (name === undefined && proto !== Object.prototype && proto !== null) {
    throw new TypeError(
      `An override setting of class ${proto?.constructor?.name ?? "unknown"} cannot be sent to the controller from a worker. ` +
        'Make the override at the top level of the module, or run the calling task with `runtime: "inline"`.',
    );
  }
  const fields: Record<string, unknown> = name === undefined ? {} : { [tag]: name };
  for (const [key, field] of Object.entries(value)) fields[key] = encodeSetting(field);
  return fields;
}

/** The inverse of {@link encodeSetting}: the same immutable values. */
export function decodeSetting(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return Object.freeze(value.map(decodeSetting));
  const { [tag]: name, ...rest } = value as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(rest)) fields[key] = decodeSetting(field);
  if (name === undefined) return fields;
  const cls = classes[name as ClassName];
  if (cls === undefined) throw new TypeError(`Unknown flyte-ts value class ${String(name)}.`);
  if (cls === Resources) {
    const { cpu, memory, gpu, disk, shm } = fields as ResourcesOptions;
    return new Resources(
      Object.fromEntries(
        Object.entries({ cpu, memory, gpu, disk, shm }).filter(([, v]) => v !== undefined),
      ),
    );
  }
  return Object.freeze(Object.assign(Object.create(cls.prototype), fields));
}

/** The reference a call of `template` carries. */
export function taskRef(template: TaskTemplate): TaskRef {
  return template.overrides === undefined
    ? { module: template.moduleUrl, name: template.name }
    : { module: template.moduleUrl, name: template.name, overrides: template.overrides };
}

const applied = new WeakMap<TaskTemplate, Map<string, TaskTemplate>>();

/**
 * The override of `base` that `overrides` describe; the same object for the same overrides, so
 * pools, secrets and batches keyed by template are shared.
 */
export function applyOverrides(base: TaskTemplate, overrides: OverrideData): TaskTemplate {
  const key = JSON.stringify(overrides);
  let byKey = applied.get(base);
  if (byKey === undefined) {
    byKey = new Map();
    applied.set(base, byKey);
  }
  let template = byKey.get(key);
  if (template === undefined) {
    const settings: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(overrides)) {
      const unportable = (value as { $unportable?: string } | null)?.$unportable;
      if (unportable !== undefined) throw new TypeError(unportable);
      settings[name] = value === null ? undefined : decodeSetting(value);
    }
    template = Object.freeze({ ...base, ...settings, overridden: true, overrides });
    byKey.set(key, template);
  }
  return template;
}
