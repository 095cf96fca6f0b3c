/**
 * `Environment` and `TaskEnvironment`: the settings a group of tasks shares (image, resources,
 * env vars, secrets, cache, reuse, runtime), validated at construction.
 * @module
 */
import { callerLocation } from "../internal/caller.js";
import { parametersOf } from "../internal/parameters.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { Cache, type CacheRequest } from "./cache.js";
import { Image } from "./image.js";
import {
  environmentLimits,
  type RateLimit,
  type RateLimitOptions,
  readMaxConcurrency,
  readRateLimit,
  type TaskLimits,
  taskLimits,
} from "./limits.js";
import { isV1PodTemplate, PodTemplate, type V1PodTemplateLike } from "./pod-template.js";
import { Resources, type ResourcesOptions } from "./resources.js";
import { RetryStrategy } from "./retry.js";
import { ReusePolicy, type ReusePolicyOptions } from "./reuse-policy.js";
import { normalizeSecrets, type Secret, type SecretRequest } from "./secret.js";
import { isSlurm, Slurm } from "./slurm.js";
import {
  type AnyTask,
  checkTaskOptions,
  isTask,
  makeTask,
  type Offload,
  type Runtime,
  type Task,
  type TaskOptions,
  type TaskOwner,
  type TaskTemplate,
} from "./task.js";
import { Timeout } from "./timeout.js";

const namePattern = /^[a-z0-9]+([_-][a-z0-9]+)*$/;

/** Options shared by every environment. */
export interface EnvironmentOptions {
  /** Lowercase letters and digits in runs joined by single `_` or `-`, e.g. `"training"`, `"data-prep"`. */
  name: string;
  /** The container image for offload: `"auto"`, a prebuilt URI, or an {@link Image}. @default "auto" */
  image?: "auto" | string | Image;
  /** What each task of the environment needs; admitted against this host before it runs. */
  resources?: Resources | ResourcesOptions;
  /** Environment variables set in the task's worker. @default {} */
  envVars?: Record<string, string>;
  /** The seed's spelling of {@link EnvironmentOptions.envVars} (`env=`); give one or the other. */
  env?: Record<string, string>;
  /** Secrets resolved on this host and set in the worker's environment. */
  secrets?: SecretRequest;
  /** Environments to deploy or build alongside this one (a deploy-time hint). @default [] */
  dependsOn?: readonly Environment[];
  /** The seed's spelling of {@link EnvironmentOptions.dependsOn} (`env_dep_hints=`); give one or the other. */
  envDepHints?: readonly Environment[];
  /**
   * A pod template for offload: its name, a {@link PodTemplate}, or a Kubernetes `V1PodTemplate`
   * object (the seed's type; read with `PodTemplate.fromV1`).
   */
  podTemplate?: string | PodTemplate | V1PodTemplateLike;
  /** A description. */
  description?: string;
}

/** Options of a {@link TaskEnvironment}. */
export interface TaskEnvironmentOptions extends EnvironmentOptions {
  /** Caching for the environment's tasks. @default "disable" */
  cache?: CacheRequest;
  /** Keep a warm pool of workers between calls (and between runs in one process). */
  reusable?: ReusePolicy | ReusePolicyOptions;
  /**
   * Where task bodies run: `"thread"`, `"process"` or `"inline"`. A memory limit holds for sure
   * only in a process (one large allocation past a thread's limit aborts the whole host process),
   * so environments with `Resources({ memory })` run as processes unless told otherwise.
   * @default "process" when `resources` asks for a GPU, a TPU or memory, else "thread"
   */
  runtime?: Runtime;
  /**
   * In a `mode: "hybrid"` run, every action of this environment runs on a cluster instead of on
   * this host: `"kubernetes"` (a Job each), `"slurm"` or a {@link Slurm} (a batch job each; a
   * `flyte.map` over the environment is one job array). See the README, "When one machine is
   * not enough". Ignored in local runs.
   * @default undefined (runs here)
   */
  offload?: Offload;
  /**
   * At most this many actions of the environment's tasks run at once, counted together across
   * every run in this process (flyte-ts addition; not `ReusePolicy.concurrency`, which is how many
   * tasks one reusable worker runs at once). A parent awaiting its children lends its slot back.
   * A task's own `maxConcurrency` replaces it for that task. @default no limit
   */
  maxConcurrency?: number;
  /**
   * At most `max` attempts of the environment's tasks start in any window of `per`, across every
   * run in this process: for tasks calling a rate-limited API. A task's own `rateLimit` replaces
   * it for that task. @default no limit
   * @example `rateLimit: { max: 10, per: "1s" }`
   */
  rateLimit?: RateLimit | RateLimitOptions;
}

const environmentKeys = [
  "name",
  "image",
  "resources",
  "envVars",
  "env",
  "secrets",
  "dependsOn",
  "envDepHints",
  "podTemplate",
  "description",
] as const;

/** Seed spellings accepted beside today's option names: alias → option. */
const seedAliases = { env: "envVars", envDepHints: "dependsOn" } as const;

/**
 * Reads the seed's spellings (`env`, `envDepHints`) into today's (`envVars`, `dependsOn`);
 * giving both spellings of one option is a problem at the alias's path.
 */
function withoutAliases<T extends EnvironmentOptions>(problems: Problems, options: T): T {
  let out = options;
  for (const [alias, option] of Object.entries(seedAliases) as [
    keyof typeof seedAliases,
    "envVars" | "dependsOn",
  ][]) {
    if (!(alias in out)) continue;
    const { [alias]: value, ...rest } = out;
    if (value !== undefined && rest[option] !== undefined) {
      problems.add(
        alias,
        `\`${alias}\` is the seed's spelling of \`${option}\`; give one of them, not both.`,
      );
    }
    out = (
      value === undefined || rest[option] !== undefined ? rest : { ...rest, [option]: value }
    ) as T;
  }
  return out;
}
const taskEnvironmentKeys = [
  ...environmentKeys,
  "cache",
  "reusable",
  "runtime",
  "offload",
  "maxConcurrency",
  "rateLimit",
] as const;

/**
 * A named set of settings for deploying tasks together. Most programs use its subclass
 * {@link TaskEnvironment}.
 *
 * @example
 * ```ts
 * const shared = new flyte.Environment({ name: "shared", envVars: { LOG_LEVEL: "info" } });
 * ```
 */
export class Environment {
  readonly name: string;
  readonly image: "auto" | string | Image;
  readonly resources: Resources | undefined;
  readonly envVars: Readonly<Record<string, string>>;
  readonly secrets: readonly Secret[];
  readonly podTemplate: string | PodTemplate | undefined;
  readonly description: string | undefined;
  readonly #dependsOn: Environment[];

  constructor(options: EnvironmentOptions) {
    const problems = new Problems(`${new.target.name} ${describe(options?.name)}`);
    const known = new.target === Environment ? environmentKeys : taskEnvironmentKeys;
    const o = checkKeys(problems, options, known)
      ? withoutAliases(problems, options)
      : ({ name: "" } as EnvironmentOptions);
    this.name = checkName(problems, o.name);
    this.image = checkImage(problems, o.image);
    this.resources =
      o.resources === undefined
        ? undefined
        : problems.nested("resources", () => Resources.from(o.resources as Resources));
    this.envVars = checkEnvVars(problems, o.envVars);
    this.secrets = problems.nested("secrets", () => normalizeSecrets(o.secrets)) ?? [];
    this.podTemplate = checkPodTemplate(problems, o.podTemplate);
    if (o.description !== undefined && typeof o.description !== "string") {
      problems.add(
        "description",
        `Expected \`description\` to be a string, got ${describe(o.description)}.`,
      );
    }
    this.description = typeof o.description === "string" ? o.description : undefined;
    this.#dependsOn = [];
    if (o.dependsOn !== undefined) {
      if (!Array.isArray(o.dependsOn)) {
        problems.add(
          "dependsOn",
          `Expected \`dependsOn\` to be an array of environments, got ${describe(o.dependsOn)}.`,
        );
      } else {
        o.dependsOn.forEach((dep, i) => {
          if (dep instanceof Environment) this.#dependsOn.push(dep);
          else problems.add(`dependsOn[${i}]`, `Expected an Environment, got ${describe(dep)}.`);
        });
      }
    }
    this.validate(problems, o);
    problems.throwIfAny();
  }

  /** Subclasses add their own checks here; every problem is reported together. */
  protected validate(_problems: Problems, _options: EnvironmentOptions): void {}

  /** Environments deployed or built alongside this one, in the order added. */
  get dependsOn(): readonly Environment[] {
    return [...this.#dependsOn];
  }

  /**
   * Adds deployment dependencies (duplicates by name are skipped, unlike upstream).
   * @throws TypeError when an argument is not an Environment or is this environment.
   */
  addDependency(...envs: Environment[]): this {
    for (const env of envs) {
      if (!(env instanceof Environment))
        throw new TypeError(`Expected an Environment, got ${describe(env)}.`);
      if (env.name === this.name)
        throw new TypeError(`Environment "${this.name}" cannot depend on itself.`);
      if (!this.#dependsOn.some((d) => d.name === env.name)) this.#dependsOn.push(env);
    }
    return this;
  }

  /**
   * A copy of this environment under a new name with some settings replaced; omitted settings
   * are inherited. The seed's spellings `env` and `envDepHints` are accepted here too.
   *
   * @throws InvalidConfigError when `name` is missing (a copy under the same name would deploy
   *   over this one) or a setting is invalid
   * @example
   * ```ts
   * const gpuShared = shared.cloneWith({ name: "shared-gpu", resources: new flyte.Resources({ gpu: 1 }) });
   * ```
   */
  cloneWith(options: EnvironmentCloneOptions): Environment {
    return new Environment(this.clonedOptions(options, this.inheritedOptions()));
  }

  /** The options that rebuild this environment, for {@link Environment.cloneWith}. */
  protected inheritedOptions(): EnvironmentOptions {
    return {
      name: this.name,
      image: this.image,
      envVars: { ...this.envVars },
      secrets: [...this.secrets],
      dependsOn: this.dependsOn,
      ...(this.resources === undefined ? {} : { resources: this.resources }),
      ...(this.podTemplate === undefined ? {} : { podTemplate: this.podTemplate }),
      ...(this.description === undefined ? {} : { description: this.description }),
    };
  }

  /**
   * `inherited` with the settings given in `options` replaced (an `undefined` value inherits).
   * @throws InvalidConfigError when `name` is missing or both spellings of an option are given
   */
  protected clonedOptions<T extends EnvironmentOptions>(
    options: EnvironmentCloneOptions,
    inherited: T,
  ): T {
    const problems = new Problems(`cloneWith of ${this.constructor.name} "${this.name}"`);
    if (typeof options !== "object" || options === null) {
      problems.add("", `Expected the settings of the copy as an object, got ${describe(options)}.`);
      problems.throwIfAny();
    }
    if (options.name === undefined) {
      problems.add(
        "name",
        `A copy needs its own \`name\`: a copy named "${this.name}" would be deployed over this environment. Pass \`cloneWith({ name: "${this.name}-copy", ... })\`.`,
      );
    }
    const given = withoutAliases(problems, options as EnvironmentOptions);
    problems.throwIfAny();
    const merged = { ...inherited } as Record<string, unknown>;
    for (const [key, value] of Object.entries(given)) {
      if (value !== undefined) merged[key] = value;
    }
    return merged as T;
  }
}

/** Options of {@link Environment.cloneWith}: a new name and the settings to replace. */
export type EnvironmentCloneOptions = Partial<EnvironmentOptions> & { name: string };

function checkName(problems: Problems, name: unknown): string {
  if (typeof name !== "string" || !namePattern.test(name)) {
    problems.add(
      "name",
      `Environment name ${describe(name)} must be in snake_case or kebab-case: lowercase letters and digits ` +
        'joined by single "_" or "-" (e.g. "training", "data-prep").',
    );
    return typeof name === "string" ? name : "";
  }
  return name;
}

function checkImage(problems: Problems, image: unknown): "auto" | string | Image {
  if (image === undefined) return "auto";
  if (typeof image === "string" && image.length > 0) return image;
  if (image instanceof Image) return image;
  problems.add(
    "image",
    `Expected \`image\` to be "auto", an image URI or an Image, got ${describe(image)}.`,
  );
  return "auto";
}

function checkEnvVars(problems: Problems, envVars: unknown): Readonly<Record<string, string>> {
  if (envVars === undefined) return Object.freeze({});
  if (typeof envVars !== "object" || envVars === null || Array.isArray(envVars)) {
    problems.add(
      "envVars",
      `Expected \`envVars\` to be an object of strings, got ${describe(envVars)}.`,
    );
    return Object.freeze({});
  }
  for (const [key, value] of Object.entries(envVars)) {
    if (typeof value !== "string") {
      problems.add(
        `envVars.${key}`,
        `Expected a string, got ${describe(value)}. Convert it with String(...).`,
      );
    }
  }
  return Object.freeze({ ...(envVars as Record<string, string>) });
}

function checkPodTemplate(
  problems: Problems,
  podTemplate: unknown,
): string | PodTemplate | undefined {
  if (
    podTemplate === undefined ||
    typeof podTemplate === "string" ||
    podTemplate instanceof PodTemplate
  ) {
    return podTemplate;
  }
  if (isV1PodTemplate(podTemplate)) {
    return problems.nested("podTemplate", () => PodTemplate.fromV1(podTemplate));
  }
  problems.add(
    "podTemplate",
    `Expected \`podTemplate\` to be a template name, a PodTemplate or a Kubernetes V1PodTemplate (with \`template.spec\`), got ${describe(podTemplate)}.`,
  );
  return undefined;
}

const runtimes: readonly Runtime[] = ["thread", "process", "inline"];

/**
 * Any function a task can wrap. (`never` parameters make every function fit and let a parameter
 * with a default, `n = 10`, keep the default's type.)
 */
export type TaskFunction = (...args: never) => unknown;

/** Options of {@link TaskEnvironment.cloneWith}: a new name and the settings to replace. */
export type TaskEnvironmentCloneOptions = Partial<Omit<TaskEnvironmentOptions, "reusable">> & {
  name: string;
  /** A new reuse policy; `undefined` given explicitly turns reuse off. */
  reusable?: ReusePolicy | ReusePolicyOptions | undefined;
};

/**
 * An environment whose functions become tasks with {@link TaskEnvironment.task}.
 *
 * @example
 * ```ts
 * export const env = new flyte.TaskEnvironment({
 *   name: "training",
 *   resources: new flyte.Resources({ cpu: 2, memory: "4Gi" }),
 *   cache: "auto",
 * });
 * export const square = env.task(async function square(x: number) { return x * x; });
 * ```
 */
export class TaskEnvironment extends Environment implements TaskOwner {
  /** Caching for the environment's tasks. @default "disable" */
  declare readonly cache: Cache;
  /** The warm-pool policy, or `undefined` for fresh workers per run. */
  declare readonly reusable: ReusePolicy | undefined;
  /** Where task bodies run. */
  declare readonly runtime: Runtime;
  /** Where a hybrid run sends this environment's tasks, or `undefined` for this host. */
  declare readonly offload: Offload | undefined;
  /** How many of its actions run at once in this process, or `undefined` for no limit. */
  declare readonly maxConcurrency: number | undefined;
  /** How often its attempts start, or `undefined` for no limit. */
  declare readonly rateLimit: RateLimit | undefined;
  /** Both limits with their scope (this environment), or `undefined` when none is set. */
  declare readonly limits: TaskLimits | undefined;
  readonly #tasks = new Map<string, AnyTask>();

  constructor(options: TaskEnvironmentOptions) {
    super(options);
  }

  protected override validate(problems: Problems, options: TaskEnvironmentOptions): void {
    const self = this as {
      cache: Cache;
      reusable: ReusePolicy | undefined;
      runtime: Runtime;
      offload: Offload | undefined;
      maxConcurrency: number | undefined;
      rateLimit: RateLimit | undefined;
      limits: TaskLimits | undefined;
    };
    self.offload = checkOffload(problems, options.offload, this.resources);
    self.maxConcurrency = readMaxConcurrency(problems, "maxConcurrency", options.maxConcurrency);
    self.rateLimit = readRateLimit(problems, "rateLimit", options.rateLimit);
    self.limits = environmentLimits(this.name, self);
    self.cache =
      problems.nested("cache", () => Cache.from(options.cache ?? "disable")) ??
      new Cache("disable");
    self.reusable =
      options.reusable === undefined || options.reusable === null
        ? undefined
        : problems.nested("reusable", () =>
            options.reusable instanceof ReusePolicy
              ? options.reusable
              : new ReusePolicy(options.reusable as ReusePolicyOptions),
          );
    if (options.runtime !== undefined && !runtimes.includes(options.runtime)) {
      problems.add(
        "runtime",
        `Expected \`runtime\` to be "thread", "process" or "inline", got ${describe(options.runtime)}.`,
      );
    }
    const wantsDevice = this.resources?.getDevice() != null;
    // A memory limit is enforced for sure only on a process: V8 aborts the whole process when a
    // thread's heap runs out during one large allocation (`new Array(1e8).fill(0)`).
    const wantsMemory =
      this.resources?.memoryLimitBytes !== undefined ||
      this.resources?.memoryRequestBytes !== undefined;
    self.runtime = options.runtime ?? (wantsDevice || wantsMemory ? "process" : "thread");
    if (wantsDevice && self.runtime === "thread") {
      problems.add(
        "runtime",
        'An environment that asks for GPUs or TPUs cannot use runtime "thread": device variables such as ' +
          'CUDA_VISIBLE_DEVICES are per process. Use runtime "process" (the default for device environments).',
      );
    }
  }

  /** The environment's tasks, by full name, in definition order. */
  get tasks(): ReadonlyMap<string, AnyTask> {
    return new Map(this.#tasks);
  }

  /**
   * A copy of this environment under a new name with some settings replaced. The copy has no tasks.
   * `reusable: undefined` given explicitly turns reuse off; other omitted settings are inherited.
   * The seed's spellings `env` and `envDepHints` are accepted here too.
   *
   * @throws InvalidConfigError when `name` is missing or a setting is invalid
   * @example
   * ```ts
   * const driver = env.cloneWith({ name: "driver", reusable: undefined, dependsOn: [env] });
   * ```
   */
  override cloneWith(options: TaskEnvironmentCloneOptions): TaskEnvironment {
    const merged = this.clonedOptions(options, this.inheritedOptions()) as unknown as Record<
      string,
      unknown
    >;
    // As upstream: an explicit `reusable: undefined` turns reuse off; leaving it out inherits it.
    if ("reusable" in options && options.reusable === undefined) delete merged.reusable;
    return new TaskEnvironment(merged as unknown as TaskEnvironmentOptions);
  }

  protected override inheritedOptions(): TaskEnvironmentOptions {
    return {
      ...super.inheritedOptions(),
      cache: this.cache,
      runtime: this.runtime,
      ...(this.offload === undefined ? {} : { offload: this.offload }),
      ...(this.reusable === undefined ? {} : { reusable: this.reusable }),
      ...(this.maxConcurrency === undefined ? {} : { maxConcurrency: this.maxConcurrency }),
      ...(this.rateLimit === undefined ? {} : { rateLimit: this.rateLimit }),
    };
  }

  /**
   * Makes `fn` a task of this environment, named `"<env>.<fn.name>"`.
   *
   * @example
   * ```ts
   * export const fit = env.task({ retries: 3, timeout: "10m" }, async function fit(lr: number) { ... });
   * ```
   */
  task<F extends TaskFunction>(fn: F): Task<Parameters<F>, ReturnType<F>>;
  task<F extends TaskFunction>(options: TaskOptions, fn: F): Task<Parameters<F>, ReturnType<F>>;
  task<F extends TaskFunction>(
    optionsOrFn: TaskOptions | F,
    maybeFn?: F,
  ): Task<Parameters<F>, ReturnType<F>> {
    const definedAt = callerLocation();
    const moduleUrl = definedAt?.url;
    const options = typeof optionsOrFn === "function" ? {} : optionsOrFn;
    const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn;
    const problems = new Problems(`task of TaskEnvironment "${this.name}"`);
    if (typeof fn !== "function") {
      problems.add("fn", `Expected a function to make a task of, got ${describe(fn)}.`);
      problems.throwIfAny();
      throw new Error("unreachable");
    }
    checkTaskOptions(problems, options);
    // A `name` that only names a nameless function is its identity, not a display name.
    const displayName = options.shortName ?? (fn.name ? options.name : undefined);
    const shortName = displayName ?? fn.name;
    if (!fn.name && !options.name) {
      problems.add(
        "name",
        'The function has no name. Use a named function (`env.task(async function train() {...})`) or pass `{ name: "train" }`.',
      );
    }
    const name = `${this.name}.${fn.name || options.name || ""}`;
    if (this.#tasks.has(name)) {
      problems.add(
        "name",
        `Task \`${name}\` is already defined in this environment. Task names must be unique; rename the function.`,
      );
    }
    if (this.reusable !== undefined && options.podTemplate !== undefined) {
      problems.add(
        "podTemplate",
        "Cannot set `podTemplate` on a task of a reusable environment: its workers are shared.",
      );
    }
    const kind = fn.constructor.name;
    if (kind === "AsyncGeneratorFunction" || kind === "GeneratorFunction") {
      // A task call resolves with one value, recorded, cached and sent across workers whole;
      // a generator's values cannot stream back through that today.
      problems.add(
        "fn",
        `Task \`${fn.name || options.name || "(anonymous)"}\` is a generator function, which a task cannot be: a task call resolves with one value. ` +
          "Collect the items into an array and return it (`return [...items]`), or map a task over the items with `flyte.map`.",
      );
    }
    const isAsync = kind === "AsyncFunction";
    if (!isAsync && (this.reusable?.concurrency ?? 1) > 1) {
      problems.add(
        "fn",
        "Reusable environments with concurrency greater than 1 run only async tasks; make the function `async`.",
      );
    }
    const template: TaskTemplate = {
      name,
      shortName,
      displayName,
      func: fn,
      isAsync,
      parameters: parametersOf(fn),
      environment: this,
      cache:
        options.cache === undefined
          ? this.cache
          : (problems.nested("cache", () => Cache.from(options.cache as CacheRequest)) ??
            this.cache),
      retries:
        problems.nested("retries", () => RetryStrategy.from(options.retries ?? 0)) ??
        RetryStrategy.from(0),
      timeout:
        problems.nested("timeout", () => Timeout.from(options.timeout ?? 0)) ?? Timeout.from(0),
      secrets:
        options.secrets === undefined
          ? this.secrets
          : (problems.nested("secrets", () => normalizeSecrets(options.secrets)) ?? []),
      resources: this.resources,
      envVars: this.envVars,
      reusable: this.reusable,
      podTemplate:
        options.podTemplate === undefined
          ? this.podTemplate
          : checkPodTemplate(problems, options.podTemplate),
      docs: options.docs,
      report: options.report ?? false,
      limits: taskLimits(
        name,
        {
          maxConcurrency: readMaxConcurrency(problems, "maxConcurrency", options.maxConcurrency),
          rateLimit: readRateLimit(problems, "rateLimit", options.rateLimit),
        },
        this.limits,
      ),
      runtime: this.runtime,
      moduleUrl,
      definedAt,
      overridden: false,
    };
    problems.throwIfAny();
    const task = makeTask(Object.freeze(template));
    this.#tasks.set(name, task);
    registerTask(task);
    return task as unknown as Task<Parameters<F>, ReturnType<F>>;
  }

  /**
   * Adds a task made elsewhere to this environment.
   * @throws TypeError when a task of the same name is already there.
   */
  addTask<T extends AnyTask>(task: T): T {
    if (!isTask(task))
      throw new TypeError(`Expected a task made by env.task, got ${describe(task)}.`);
    if (this.#tasks.has(task.name)) {
      throw new TypeError(
        `Task ${task.name} already exists in the environment. Task names should be unique.`,
      );
    }
    this.#tasks.set(task.name, task);
    return task;
  }
}

// Tasks by module and full name, for workers that import a module and look a task up, and for
// the controller resolving a worker's call. Shared by every copy of flyte-ts loaded in this
// process (see context.ts): definitions happen at import time, before any engine exists.
const registryKey = Symbol.for("flyte-ts.tasks.v2");
const registrySlot = globalThis as { [registryKey]?: Map<string, AnyTask> };
registrySlot[registryKey] ??= new Map();
const registry: Map<string, AnyTask> = registrySlot[registryKey];

function registerTask(task: AnyTask): void {
  registry.set(`${task.moduleUrl ?? ""}#${task.name}`, task);
  // The latest definition of a name also answers lookups that give no module.
  registry.set(`#${task.name}`, task);
}

/**
 * The task defined in `module` under `name` in this process, if any; without a module, the one
 * most recently defined under that name.
 */
export function lookupTask(name: string, module?: string): AnyTask | undefined {
  return registry.get(`${module ?? ""}#${name}`);
}

/**
 * The environment's offload target. A Slurm cluster cannot be asked for a TPU or a MIG slice
 * (Slurm schedules whole GPUs by `--gres`), so such Resources are refused here, at definition.
 */
function checkOffload(
  problems: Problems,
  offload: unknown,
  resources: Resources | undefined,
): Offload | undefined {
  if (offload === undefined || offload === "kubernetes") return offload;
  if (!isSlurm(offload) || (offload !== "slurm" && !(offload instanceof Slurm))) {
    problems.add(
      "offload",
      `Expected \`offload\` to be "kubernetes", "slurm", a flyte.Slurm or left out, got ${describe(offload)}.`,
    );
    return undefined;
  }
  const refused = slurmRefusal(resources);
  if (refused !== undefined) problems.add("offload", refused);
  return offload;
}

/** Why Slurm cannot be asked for these Resources, or `undefined` when it can. */
export function slurmRefusal(resources: Resources | undefined): string | undefined {
  const device = resources?.getDevice() ?? null;
  if (device === null) return undefined;
  if (device.kind === "tpu") {
    return `Slurm cannot be asked for a TPU (${device.device ?? "tpu"}): Slurm clusters schedule GPUs through --gres. Offload TPU tasks to "kubernetes".`;
  }
  if (device.partition !== undefined) {
    return `Slurm cannot be asked for a MIG slice (${device.device} ${device.partition}): --gres schedules whole GPUs. Ask for a whole GPU, or offload to "kubernetes".`;
  }
  return undefined;
}
