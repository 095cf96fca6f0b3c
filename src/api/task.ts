/**
 * Tasks: what `env.task(fn)` returns — a callable that keeps `fn`'s types, runs `fn` as a plain
 * call outside a run, and becomes a sub-action inside one.
 * @module
 */
import { hashInputs } from "../cache/inputs.js";
import {
  currentFrame,
  type Frame,
  type MapItem,
  nextSequence,
  type SubCall,
  type TaskContext,
} from "../context/context.js";
import { TraceDoesNotAllowNestedTasksError } from "../errors.js";
import type { CallLocation } from "../internal/caller.js";
import { copiedArgs } from "../internal/copied-args.js";
import type { Parameter } from "../internal/parameters.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { Cache, type CacheRequest } from "./cache.js";
import type { Image } from "./image.js";
import {
  type RateLimit,
  type RateLimitOptions,
  readMaxConcurrency,
  readRateLimit,
  type TaskLimits,
  taskLimits,
} from "./limits.js";
import { type PartialTask, partialOf } from "./partial.js";
import type { PodTemplate, V1PodTemplateLike } from "./pod-template.js";
import { Resources, type ResourcesOptions } from "./resources.js";
import { type RetryOptions, RetryStrategy } from "./retry.js";
import { ReusePolicy, type ReusePolicyOptions } from "./reuse-policy.js";
import { normalizeSecrets, type Secret, type SecretRequest } from "./secret.js";
import type { Slurm } from "./slurm.js";
import { encodeSetting, type OverrideData } from "./task-ref.js";
import { Timeout, type TimeoutRequest } from "./timeout.js";

/**
 * Where a task's body runs: a worker thread (default), a child process (default when the
 * environment asks for GPUs or TPUs), or inline on the caller's thread.
 */
export type Runtime = "thread" | "process" | "inline";

/** The environment a task belongs to, as the task sees it (implemented by `TaskEnvironment`). */
export interface TaskOwner {
  readonly name: string;
  readonly image: "auto" | string | Image;
  readonly resources: Resources | undefined;
  readonly envVars: Readonly<Record<string, string>>;
  readonly secrets: readonly Secret[];
  readonly cache: Cache;
  readonly reusable: ReusePolicy | undefined;
  readonly podTemplate: string | PodTemplate | undefined;
  readonly runtime: Runtime;
  /**
   * Where its tasks run in a `"hybrid"` run: `"kubernetes"` or a Slurm cluster offloads them;
   * `undefined` runs them here.
   */
  readonly offload?: Offload | undefined;
  /** The environment's `maxConcurrency` and `rateLimit`, when it sets any. */
  readonly limits?: TaskLimits | undefined;
}

/**
 * Where a hybrid run sends an environment's tasks: `"kubernetes"` (a Job per action), or a Slurm
 * cluster (a batch job per action): `"slurm"` (`sbatch` on this host, default options) or a
 * {@link Slurm}.
 */
export type Offload = "kubernetes" | "slurm" | Slurm;

/** Options of `env.task(options, fn)`. */
export interface TaskOptions {
  /**
   * A short display name. For a named function the task's full name stays
   * `"<env>.<function name>"` (as upstream); for a nameless function it supplies the name.
   */
  name?: string;
  /**
   * The name its actions are shown by in the live view, the report and `flyte-ts runs show`
   * (flyte's `short_name`). Without it, each action is labelled by the function's name and its
   * leading inputs, e.g. `train(lr=0.01, seed=2)`.
   */
  shortName?: string;
  /** Caching for this task. @default the environment's `cache` */
  cache?: CacheRequest;
  /** Retries: a count, or a RetryStrategy with backoff. @default 0 */
  retries?: number | RetryStrategy | RetryOptions;
  /** Per-attempt runtime limit (seconds or `"5m"`), or a Timeout. @default no limit */
  timeout?: TimeoutRequest;
  /** A description of the task. */
  docs?: string;
  /** Secrets for this task; replaces (does not merge with) the environment's. */
  secrets?: SecretRequest;
  /** A pod template for offload (a name, a PodTemplate or a V1PodTemplate); not allowed in a reusable environment. */
  podTemplate?: string | PodTemplate | V1PodTemplateLike;
  /** Whether the task writes an HTML report (flushed on success). @default false */
  report?: boolean;
  /**
   * At most this many actions of this task run at once, across every run in this process;
   * replaces the environment's `maxConcurrency` for this task. @default the environment's
   */
  maxConcurrency?: number;
  /**
   * At most `max` attempts of this task start in any window of `per`, across every run in this
   * process; replaces the environment's `rateLimit` for this task. @default the environment's
   */
  rateLimit?: RateLimit | RateLimitOptions;
}

/** Options of `task.override({...})`: a new task with some settings replaced. */
export interface OverrideOptions {
  /** The display name of the new task's actions (see {@link TaskOptions.shortName}). */
  shortName?: string;
  resources?: Resources | ResourcesOptions;
  cache?: CacheRequest;
  retries?: number | RetryStrategy | RetryOptions;
  timeout?: TimeoutRequest;
  /** A new reuse policy, or `"off"` to run this task on fresh workers. */
  reusable?: ReusePolicy | ReusePolicyOptions | "off";
  envVars?: Record<string, string>;
  /** The seed's spelling of `envVars` (`override(env=...)`); give one or the other. */
  env?: Record<string, string>;
  secrets?: SecretRequest;
  /** A `maxConcurrency` of this override's own (see {@link TaskOptions.maxConcurrency}). */
  maxConcurrency?: number;
  /** A `rateLimit` of this override's own (see {@link TaskOptions.rateLimit}). */
  rateLimit?: RateLimit | RateLimitOptions;
}

/** A task's settings after defaults and inheritance from its environment. */
export interface TaskTemplate {
  /** Fully qualified name, `"<env>.<function>"`. */
  readonly name: string;
  /** Display name. */
  readonly shortName: string;
  /**
   * The display name given with `shortName` (or `name`), which labels every action of the task;
   * `undefined` when actions are labelled by their leading inputs.
   */
  readonly displayName?: string | undefined;
  /** The wrapped function. */
  readonly func: Function;
  /** Whether `func` is an `async` function (or async generator). */
  readonly isAsync: boolean;
  readonly parameters: readonly Parameter[];
  readonly environment: TaskOwner;
  readonly cache: Cache;
  readonly retries: RetryStrategy;
  readonly timeout: Timeout;
  readonly secrets: readonly Secret[];
  readonly resources: Resources | undefined;
  readonly envVars: Readonly<Record<string, string>>;
  readonly reusable: ReusePolicy | undefined;
  readonly podTemplate: string | PodTemplate | undefined;
  readonly docs: string | undefined;
  readonly report: boolean;
  /**
   * The limits its attempts are admitted under (`maxConcurrency`, `rateLimit`), each with the
   * scope it is counted in; `undefined` when none applies.
   */
  readonly limits?: TaskLimits | undefined;
  readonly runtime: Runtime;
  /** The module where `env.task` was called; workers import it to find the task. */
  readonly moduleUrl: string | undefined;
  /**
   * Where `env.task` was called, in the code as it ran: the cache reads the task's function as
   * written from there (through the module's source map). `undefined` when it cannot be told.
   */
  readonly definedAt: CallLocation | undefined;
  /** Whether this template came from `override()` (it is not registered in its environment). */
  readonly overridden: boolean;
  /**
   * The settings its override chain changed, as plain data (task-ref.ts): what a call made in a
   * worker carries so the controller runs the same override. `undefined` for a defined task.
   */
  readonly overrides?: OverrideData;
}

/**
 * A task: call it like the function it wraps. Outside a run the call is a plain call; inside a
 * run it is a sub-action (cached, scheduled, retried, recorded). A call always returns a promise,
 * also for a synchronous function, because a sub-action cannot block the caller.
 *
 * @example
 * ```ts
 * const square = env.task(async function square(x: number) { return x * x; });
 * await square(3);                 // 9, a plain call
 * await flyte.run(square, 3);      // a run with one action
 * ```
 */
export type Task<A extends unknown[] = never, R = unknown> = ((...args: A) => Promise<Awaited<R>>) &
  Omit<TaskTemplate, "func"> & {
    /** The wrapped function, with its own types. */
    readonly func: (...args: A) => R;
    /** A new task with some settings replaced; not registered in the environment. */
    override(options: OverrideOptions): Task<A, R>;
    /**
     * This task with the arguments named in `bound` fixed and one parameter left free, for
     * `flyte.map` (upstream's `functools.partial`): `flyte.map(scale.partial({ factor: 2 }), xs)`.
     * @throws InvalidConfigError naming an unknown parameter or the parameters left without a value
     */
    partial(bound: Readonly<Record<string, unknown>>): PartialTask<A, R>;
  };

/** Any task, whatever its parameters. */
export type AnyTask = Task<never, unknown>;

const taskMarker = Symbol.for("flyte-ts.task.v1");
const mapItemCall = Symbol("flyte-ts.map-item-call");

/** Whether `value` is a task made by `env.task`. */
export function isTask(value: unknown): value is AnyTask {
  return typeof value === "function" && (value as { [taskMarker]?: true })[taskMarker] === true;
}

/** Makes the callable task around a template. */
export function makeTask(template: TaskTemplate): AnyTask {
  const call = (...args: unknown[]) => invokeTask(template, args);
  const properties: PropertyDescriptorMap = {
    [taskMarker]: { value: true },
    [mapItemCall]: { value: (args: unknown[], item: MapItem) => invokeTask(template, args, item) },
    override: {
      value: (options: OverrideOptions) => makeTask(overrideTemplate(template, options)),
    },
    partial: {
      value: (bound: Readonly<Record<string, unknown>>) => partialOf(call as never, bound),
    },
    toString: { value: () => `Task(${template.name})` },
  };
  for (const [key, value] of Object.entries(template)) {
    properties[key] = { value, enumerable: true };
  }
  return Object.defineProperties(call, properties) as unknown as AnyTask;
}

/**
 * Calls `task` as item `item.index` of a `flyte.map` whose items a cluster may submit together
 * (a Slurm job array); otherwise the same as calling it.
 */
export function callAsMapItem(task: AnyTask, args: unknown[], item: MapItem): Promise<unknown> {
  type WithMapItemCall = { [mapItemCall]: (args: unknown[], item: MapItem) => Promise<unknown> };
  return (task as unknown as WithMapItemCall)[mapItemCall](args, item);
}

function invokeTask(template: TaskTemplate, args: unknown[], mapItem?: MapItem): Promise<unknown> {
  const frame = currentFrame();
  if (frame === undefined) {
    try {
      return Promise.resolve(template.func(...args));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  if (frame.inTrace) {
    return Promise.reject(
      new TraceDoesNotAllowNestedTasksError(
        `Task \`${template.name}\` was called inside a flyte.trace body (action ${frame.context.action.name}). ` +
          "A trace may only run plain code; call the task from the task body instead.",
      ),
    );
  }
  const pacer = frame.channel.pacer;
  if (pacer === undefined || pacer.ready()) {
    return issueCall(frame, frame.context, template, args, mapItem);
  }
  // Queued behind a busy controller (context/call-pacer.ts). The context is the caller's now (a
  // group, a custom context), and so are the arguments: the child's copy is taken now, so the
  // caller changing its objects before the call is issued cannot reach it.
  const queued: QueuedCall = {
    frame,
    context: frame.context,
    template,
    args: copiedArgs(args),
    mapItem,
  };
  return pacer.enqueue(issueQueued, queued);
}

/** A call the pacer holds: what {@link issueCall} takes, as it was when the call was made. */
interface QueuedCall {
  readonly frame: Frame;
  readonly context: TaskContext;
  readonly template: TaskTemplate;
  readonly args: unknown[];
  readonly mapItem: MapItem | undefined;
}

const issueQueued = (call: QueuedCall): Promise<unknown> =>
  issueCall(call.frame, call.context, call.template, call.args, call.mapItem);

/** Numbers the call within its attempt and hands it to the controller. */
function issueCall(
  frame: Frame,
  context: TaskContext,
  template: TaskTemplate,
  args: unknown[],
  mapItem: MapItem | undefined,
): Promise<unknown> {
  let inputsHash: string;
  try {
    inputsHash = hashInputs(template, args);
  } catch (error) {
    return Promise.reject(error);
  }
  const group = context.group;
  const seq = nextSequence(frame, `${template.name}|${inputsHash}|${group ?? ""}`);
  const call: { -readonly [K in keyof SubCall]: SubCall[K] } = {
    taskName: template.name,
    module: template.moduleUrl,
    ...(template.overrides === undefined ? {} : { overrides: template.overrides }),
    args,
    parent: context.action.name,
    group,
    seq,
    inputsHash,
  };
  if (mapItem !== undefined) call.mapItem = mapItem;
  // The run's context is empty unless set, and scopes only add to it: empty means nothing to pass.
  const custom = context.customContext;
  if (hasKeys(custom)) call.customContext = custom;
  return frame.channel.submit(call, template);
}

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

const overrideKeys = [
  "shortName",
  "resources",
  "cache",
  "retries",
  "timeout",
  "reusable",
  "envVars",
  "env",
  "secrets",
  "maxConcurrency",
  "rateLimit",
] as const;
/** Override options kept under another name in the template. */
const templateKeyOf: Partial<Record<(typeof overrideKeys)[number], keyof TaskTemplate>> = {
  env: "envVars",
  maxConcurrency: "limits",
  rateLimit: "limits",
};
const notOverridable: Record<string, string> = {
  name: "Name",
  image: "Image",
  docs: "Docs",
  interface: "Interface",
  func: "Function",
};

function overrideTemplate(template: TaskTemplate, options: OverrideOptions): TaskTemplate {
  const problems = new Problems(`override of task \`${template.name}\``);
  for (const key of Object.keys(options ?? {})) {
    const label = notOverridable[key];
    if (label) problems.add(key, `${label} cannot be overridden; define another task instead.`);
  }
  const known = [...overrideKeys, ...Object.keys(notOverridable)];
  if (!checkKeys(problems, options, known)) problems.throwIfAny();
  if (options.env !== undefined && options.envVars !== undefined) {
    problems.add("env", "`env` is the seed's spelling of `envVars`; give one of them, not both.");
  }
  const envVars = options.envVars ?? options.env;
  const reusable =
    options.reusable === undefined
      ? template.reusable
      : options.reusable === "off"
        ? undefined
        : problems.nested("reusable", () =>
            options.reusable instanceof ReusePolicy
              ? options.reusable
              : new ReusePolicy(options.reusable as ReusePolicyOptions),
          );
  if (reusable !== undefined) {
    for (const key of ["resources", "envVars", "env", "secrets"] as const) {
      if (options[key] !== undefined) {
        problems.add(
          key,
          `Cannot override ${key} when the task is reusable: a reusable environment's workers are shared. ` +
            `Pass \`reusable: "off"\` as well to run this call on fresh workers.`,
        );
      }
    }
  }
  if (
    options.shortName !== undefined &&
    (typeof options.shortName !== "string" || options.shortName === "")
  ) {
    problems.add(
      "shortName",
      `Expected \`shortName\` to be a non-empty string, got ${describe(options.shortName)}.`,
    );
  }
  const next: TaskTemplate = {
    ...template,
    ...(options.shortName === undefined
      ? {}
      : { shortName: options.shortName, displayName: options.shortName }),
    overridden: true,
    reusable,
    resources:
      options.resources === undefined
        ? template.resources
        : problems.nested("resources", () => Resources.from(options.resources as Resources)),
    cache:
      options.cache === undefined
        ? template.cache
        : (problems.nested("cache", () => Cache.from(options.cache as CacheRequest)) ??
          template.cache),
    retries:
      options.retries === undefined
        ? template.retries
        : (problems.nested("retries", () => RetryStrategy.from(options.retries as number)) ??
          template.retries),
    timeout:
      options.timeout === undefined
        ? template.timeout
        : (problems.nested("timeout", () => Timeout.from(options.timeout as TimeoutRequest)) ??
          template.timeout),
    envVars: envVars === undefined ? template.envVars : { ...envVars },
    secrets:
      options.secrets === undefined
        ? template.secrets
        : (problems.nested("secrets", () => normalizeSecrets(options.secrets)) ?? []),
    limits:
      options.maxConcurrency === undefined && options.rateLimit === undefined
        ? template.limits
        : taskLimits(
            template.name,
            {
              maxConcurrency: readMaxConcurrency(
                problems,
                "maxConcurrency",
                options.maxConcurrency,
              ),
              rateLimit: readRateLimit(problems, "rateLimit", options.rateLimit),
            },
            template.limits,
          ),
  };
  problems.throwIfAny();
  const changed: Record<string, unknown> = { ...template.overrides };
  for (const option of overrideKeys) {
    if (options[option] === undefined) continue;
    const key = (templateKeyOf[option] ?? option) as keyof TaskTemplate;
    try {
      // `null` stands for a setting turned off (`reusable: "off"`).
      changed[key] = next[key] === undefined ? null : encodeSetting(next[key]);
    } catch (error) {
      changed[key] = { $unportable: (error as Error).message };
    }
  }
  return Object.freeze({ ...next, overrides: Object.freeze(changed) });
}

/** Validates `env.task` options; used by TaskEnvironment. */
export function checkTaskOptions(problems: Problems, options: unknown): options is TaskOptions {
  const known = [
    "name",
    "shortName",
    "cache",
    "retries",
    "timeout",
    "docs",
    "secrets",
    "podTemplate",
    "report",
    "maxConcurrency",
    "rateLimit",
  ];
  if (!checkKeys(problems, options, known)) return false;
  const o = options as Record<string, unknown>;
  for (const key of ["name", "shortName"] as const) {
    if (o[key] !== undefined && (typeof o[key] !== "string" || o[key].length === 0)) {
      problems.add(key, `Expected \`${key}\` to be a non-empty string, got ${describe(o[key])}.`);
    }
  }
  if (o.docs !== undefined && typeof o.docs !== "string") {
    problems.add("docs", `Expected \`docs\` to be a string, got ${describe(o.docs)}.`);
  }
  if (o.report !== undefined && typeof o.report !== "boolean") {
    problems.add("report", `Expected \`report\` to be true or false, got ${describe(o.report)}.`);
  }
  return true;
}
