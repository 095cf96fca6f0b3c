/**
 * `withRunContext(options).run(task, ...args)` and `flyte.run(task, ...args)`: one run of a task,
 * with its record written to `<flyte dir>/runs/<run>/run.json`.
 * @module
 */
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { isTask, type Task } from "../api/task.js";
import { type CacheStore, MemoryCacheStore } from "../cache/cache-store.js";
import type { RunMode } from "../context/context.js";
import { DeploymentError, errorToData, RunCancelledError, toTaskError } from "../errors.js";
import type { Executor, ExecutorFactory } from "../execution/executor.js";
import { runExecutors } from "../execution/pool-executor.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { type Clock, systemClock } from "../internal/time.js";
import type { RunEvent, RunObserver, RunStatus } from "../record/events.js";
import { type ActionRecord, RunRecord } from "../record/run-record.js";
import { admitAll, type Scheduler } from "../scheduler/scheduler.js";
import { Controller, type RunState } from "./controller.js";

/** How a run's code is bundled for offload. */
export type CopyStyle = "loaded_modules" | "all" | "none";

/** Options of {@link withRunContext}. */
export interface RunOptions {
  /** `"local"` runs here; `"remote"` and `"hybrid"` offload (see the README). @default "local" */
  mode?: RunMode;
  /** The run's name (a folder name). @default a timestamp plus random letters, e.g. `"20261123-2305-k3f9a"` */
  name?: string;
  /** Kubernetes service account for offloaded actions. */
  serviceAccount?: string;
  /** The code version for offload. @default the code bundle's hash */
  version?: string;
  /** What goes into the code bundle for offload. @default "loaded_modules" */
  copyStyle?: CopyStyle;
  /** Emit what would be offloaded and run nothing. @default false */
  dryRun?: boolean;
  /** Where a dry run writes its bundle. @default `<flyte dir>/offload/<run>` */
  copyBundleTo?: string;
  /** Bundle only the task's own module (notebook-style). @default false */
  interactiveMode?: boolean;
  /** Folder for large data written by tasks. @default `<flyte dir>/raw/<run>` */
  rawDataPath?: string;
  /** The run's folder (records, reports, action outputs). @default `<flyte dir>/runs/<run>` */
  runBaseDir?: string;
  /** Skip cache reads but still write results. @default false */
  overwriteCache?: boolean;
  /** Neither read nor write the cache during this run. @default false */
  disableRunCache?: boolean;
  /** Key-value pairs every action sees in `flyte.ctx().customContext`; not part of cache keys. */
  customContext?: Record<string, string>;
  /** The `.flyte` folder: cache, runs, secrets. @default `$FLYTE_TS_HOME`, else `./.flyte` */
  cacheDir?: string;
  /** Cancels the run when aborted: running attempts are stopped, the run rejects with RunCancelledError. */
  signal?: AbortSignal;
  /** Called with every event of the run, in order (live views, progress bars). */
  onEvent?: RunObserver;
  /** The clock for backoff and deadlines. Tests pass a `ManualClock`. @default the system clock */
  clock?: Clock;
}

const runOptionKeys = [
  "mode",
  "name",
  "serviceAccount",
  "version",
  "copyStyle",
  "dryRun",
  "copyBundleTo",
  "interactiveMode",
  "rawDataPath",
  "runBaseDir",
  "overwriteCache",
  "disableRunCache",
  "customContext",
  "cacheDir",
  "signal",
  "onEvent",
  "clock",
] as const;

/**
 * A finished run: its name, record and outputs.
 *
 * @example
 * ```ts
 * const run = await flyte.run(main, 10);
 * console.log(run.name, await run.outputs(), run.actions.length);
 * ```
 */
export class Run<R = unknown> {
  /** The run's name. */
  readonly name: string;
  /** The run's folder, where `run.json` is. */
  readonly url: string;
  readonly #record: RunRecord;
  readonly #outputs: R;

  /** @internal */
  constructor(name: string, url: string, record: RunRecord, outputs: R) {
    this.name = name;
    this.url = url;
    this.#record = record;
    this.#outputs = outputs;
  }

  /** The run's state; a `Run` you hold has succeeded (a failed run rejects instead). */
  get status(): RunStatus {
    return this.#record.toJSON()?.status ?? "succeeded";
  }

  /** Every action of the run, in the order they were queued. */
  get actions(): readonly ActionRecord[] {
    return this.#record.actions;
  }

  /** The root task's outputs. */
  outputs(): Promise<R> {
    return Promise.resolve(this.#outputs);
  }

  /** Resolves when the run is done (at once: a local run is done when you hold it). */
  wait(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * What the engine plugs into a run. The defaults: worker-thread and child-process pools per
 * environment (inline for `runtime: "inline"`), a memory cache, admit everything.
 */
export interface RunEngine {
  executorFor?: ExecutorFactory;
  cache?: CacheStore;
  scheduler?: Scheduler;
}

const processCache = new MemoryCacheStore();

/**
 * Runs tasks with the given run options.
 *
 * @example
 * ```ts
 * const run = await flyte.withRunContext({ name: "demo", customContext: { team: "ml" } }).run(main, 10);
 * ```
 */
export class RunContext {
  readonly #options: RunOptions;
  readonly #engine: RunEngine;

  constructor(options: RunOptions = {}, engine: RunEngine = {}) {
    this.#options = checkRunOptions(options);
    this.#engine = engine;
  }

  /**
   * Runs `task` with `args` and resolves with the finished {@link Run}; rejects with the task's
   * error (as its parent task would see it) when the run fails.
   */
  async run<A extends unknown[], R>(task: Task<A, R>, ...args: A): Promise<Run<Awaited<R>>> {
    if (!isTask(task)) {
      throw new TypeError(
        `Only flyte tasks can be run, not plain functions or other values (got ${describe(task)}). Wrap the function with env.task(...).`,
      );
    }
    const options = this.#options;
    const mode = options.mode ?? "local";
    if (mode === "remote" || options.dryRun) {
      throw new DeploymentError(
        `mode "${mode}"${options.dryRun ? " with dryRun" : ""} needs the offload support, which this build of flyte-ts does not have yet. ` +
          'Run with mode "local".',
      );
    }
    const name = options.name ?? newRunName();
    const home = resolve(options.cacheDir ?? process.env.FLYTE_TS_HOME ?? ".flyte");
    const runBaseDir = resolve(options.runBaseDir ?? join(home, "runs", name));
    const rawDataPath = resolve(options.rawDataPath ?? join(home, "raw", name));
    await mkdir(rawDataPath, { recursive: true });
    const clock = options.clock ?? systemClock;
    const record = new RunRecord();
    const observers = [record.observe, ...(options.onEvent ? [options.onEvent] : [])];
    const emit = (event: RunEvent) => {
      for (const observe of observers) {
        try {
          observe(event);
        } catch (error) {
          console.error("flyte-ts: a run observer threw; its event was skipped.", error);
        }
      }
    };
    const cancel = new AbortController();
    // Every running attempt listens to the run's signal; a fan-out has thousands.
    setMaxListeners(0, cancel.signal);
    const onAbort = () =>
      cancel.abort(
        new RunCancelledError(`Run "${name}" was cancelled.`, { cause: options.signal?.reason }),
      );
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const executors = new Set<Executor>();
    const defaultExecutors = runExecutors();
    const executorFor: ExecutorFactory = (template) => {
      const executor = (this.#engine.executorFor ?? defaultExecutors)(template);
      executors.add(executor);
      return executor;
    };
    const state: RunState = {
      name,
      mode,
      clock,
      signal: cancel.signal,
      runBaseDir,
      rawDataPath,
      home,
      customContext: Object.freeze({ ...options.customContext }),
      cacheRead: !options.overwriteCache && !options.disableRunCache,
      cacheWrite: !options.disableRunCache,
      emit,
    };
    const controller = new Controller(state, {
      executorFor,
      cache: this.#engine.cache ?? processCache,
      scheduler: this.#engine.scheduler ?? admitAll,
    });
    emit({ type: "run-started", run: name, at: clock.now(), task: task.name });
    try {
      const outputs = await controller.submitRoot(task, args);
      emit({ type: "run-finished", run: name, status: "succeeded", at: clock.now() });
      return new Run(name, runBaseDir, record, outputs as Awaited<R>);
    } catch (thrown) {
      const error = toTaskError(thrown);
      const status = error instanceof RunCancelledError ? "cancelled" : "failed";
      emit({ type: "run-finished", run: name, status, at: clock.now(), error: errorToData(error) });
      throw error;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      await Promise.all([...executors].map((e) => e.close()));
      await record.write(runBaseDir);
    }
  }
}

/**
 * Sets the options of the next run.
 *
 * @example
 * ```ts
 * const run = await flyte.withRunContext({ mode: "local", name: "demo" }).run(main, 10);
 * console.log(await run.outputs());
 * ```
 */
export function withRunContext(options: RunOptions = {}): RunContext {
  return new RunContext(options);
}

/**
 * Runs `task` with `args` in a local run with default options.
 *
 * @example
 * ```ts
 * const run = await flyte.run(square, 3);
 * await run.outputs(); // 9
 * ```
 */
export function run<A extends unknown[], R>(
  task: Task<A, R>,
  ...args: A
): Promise<Run<Awaited<R>>> {
  return new RunContext().run(task, ...args);
}

function newRunName(): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 12);
  return `${stamp.slice(0, 8)}-${stamp.slice(8)}-${randomBytes(4).toString("hex").slice(0, 5)}`;
}

function checkRunOptions(options: RunOptions): RunOptions {
  const problems = new Problems("run options");
  if (!checkKeys(problems, options, runOptionKeys)) problems.throwIfAny();
  const o = options;
  if (o.mode !== undefined && !["local", "remote", "hybrid"].includes(o.mode)) {
    problems.add(
      "mode",
      `Expected \`mode\` to be "local", "remote" or "hybrid", got ${describe(o.mode)}.`,
    );
  }
  if (o.mode === "hybrid" && (o.name === undefined || o.runBaseDir === undefined)) {
    problems.add("mode", 'A "hybrid" run needs both `name` and `runBaseDir` (upstream rule).');
  }
  if (
    o.name !== undefined &&
    (typeof o.name !== "string" || !/^[A-Za-z0-9][\w.-]{0,127}$/.test(o.name))
  ) {
    problems.add(
      "name",
      `Expected \`name\` to be a folder-safe name (letters, digits, ".", "_", "-"), got ${describe(o.name)}.`,
    );
  }
  if (o.copyStyle !== undefined && !["loaded_modules", "all", "none"].includes(o.copyStyle)) {
    problems.add(
      "copyStyle",
      `Expected \`copyStyle\` to be "loaded_modules", "all" or "none", got ${describe(o.copyStyle)}.`,
    );
  }
  for (const key of ["dryRun", "interactiveMode", "overwriteCache", "disableRunCache"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "boolean") {
      problems.add(key, `Expected \`${key}\` to be true or false, got ${describe(o[key])}.`);
    }
  }
  for (const key of [
    "serviceAccount",
    "version",
    "copyBundleTo",
    "rawDataPath",
    "runBaseDir",
    "cacheDir",
  ] as const) {
    if (o[key] !== undefined && (typeof o[key] !== "string" || o[key] === "")) {
      problems.add(key, `Expected \`${key}\` to be a non-empty string, got ${describe(o[key])}.`);
    }
  }
  if (o.customContext !== undefined) {
    if (typeof o.customContext !== "object" || o.customContext === null) {
      problems.add(
        "customContext",
        `Expected \`customContext\` to be an object of strings, got ${describe(o.customContext)}.`,
      );
    } else {
      for (const [key, value] of Object.entries(o.customContext)) {
        if (typeof value !== "string")
          problems.add(`customContext.${key}`, `Expected a string, got ${describe(value)}.`);
      }
    }
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    problems.add("signal", `Expected \`signal\` to be an AbortSignal, got ${describe(o.signal)}.`);
  }
  if (o.onEvent !== undefined && typeof o.onEvent !== "function") {
    problems.add("onEvent", `Expected \`onEvent\` to be a function, got ${describe(o.onEvent)}.`);
  }
  if (
    o.clock !== undefined &&
    (typeof o.clock?.now !== "function" || typeof o.clock?.setTimer !== "function")
  ) {
    problems.add(
      "clock",
      "Expected `clock` to have `now()` and `setTimer(ms, fn)` (see ManualClock in flyte-ts/testing).",
    );
  }
  problems.throwIfAny();
  return { ...options };
}
