/**
 * `withRunContext(options).run(task, ...args)` and `flyte.run(task, ...args)`: one run of a task,
 * with its record written to the run store, `<flyte dir>/runs.db`.
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, rmdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { isSlurm } from "../api/slurm.js";
import { isTask, type Offload, type Task } from "../api/task.js";
import { CacheStage } from "../cache/cache-stage.js";
import { hashInputs, trimArgs } from "../cache/inputs.js";
import { type SharedCache, TieredCacheStore } from "../cache/shared-tier.js";
import type { RunMode } from "../context/context.js";
import { errorToData, RunCancelledError, RuntimeUserError, toTaskError } from "../errors.js";
import { AttemptStage } from "../execution/attempt-stage.js";
import { CancelScope } from "../execution/cancel-scope.js";
import type { Executor, ExecutorFactory } from "../execution/executor.js";
import { notRecorded } from "../internal/not-recorded.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { type Clock, systemClock } from "../internal/time.js";
import { warn } from "../internal/warn.js";
import { inWorker, runStartedDuringImportCode } from "../internal/worker-flag.js";
import type { CopyStyle } from "../offload/bundle.js";
import { emitDryRun, type OffloadRunSettings, offloadExecutorFor } from "../offload/run-offload.js";
import { cacheKeyRecorder } from "../record/action-io.js";
import type { RunEvent, RunObserver, RunStatus } from "../record/events.js";
import { captureInlineOutput, type LogObserver, RunLogs, whileObserving } from "../record/logs.js";
import { type ActionRecord, RunRecord } from "../record/run-record.js";
import { telemetryObserver } from "../record/telemetry.js";
import { reportFileName, writeRunReport } from "../record/write-report.js";
import { registerActiveRun } from "./active-runs.js";
import { Controller } from "./controller.js";
import { defaultEngine, Engine, type EngineOptions } from "./engine.js";
import { checkResume } from "./resume-check.js";
import { claimRunName } from "./run-claim.js";
import { runEnvProblems, withRunEnv } from "./run-env.js";
import { progressView } from "./run-progress.js";
import { watchOwnRun } from "./run-watch.js";

export type { CopyStyle };

/** Options of {@link withRunContext}. */
export interface RunOptions {
  /** `"local"` runs here; `"remote"` and `"hybrid"` offload (see the README). @default "local" */
  mode?: RunMode;
  /** The run's name (a folder name). @default a timestamp plus random letters, e.g. `"20261123-2305-k3f9a"` */
  name?: string;
  /**
   * The cluster for offloaded actions whose environment names none: the root of a `"remote"`
   * run, and in a `"hybrid"` run the actions this host can never fit. `"kubernetes"` (the
   * kubeconfig context), `"slurm"` (`sbatch` on this host) or a {@link Slurm}.
   * @default "kubernetes"
   */
  offload?: Offload;
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
  /**
   * Ship the code of offloaded actions as the entry module (and each offloaded task's module)
   * bundled by esbuild into one self-contained ES module — relative imports inlined, packages
   * from the image — instead of the sources `copyStyle` picks: the TypeScript counterpart of
   * upstream's pickled task for notebooks and REPLs. Local runs have nothing to ship.
   * @default false
   */
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
  /**
   * Called with each chunk a task writes to stdout or stderr, as it is captured into the run's
   * `logs.jsonl`.
   */
  onLog?: LogObserver;
  /**
   * Also pass task output through to this process's stdout and stderr (it is captured into the
   * run folder either way). The CLI turns this off and shows output with `--logs`. @default true
   */
  echoLogs?: boolean;
  /** The clock for backoff and deadlines. Tests pass a `ManualClock`. @default the system clock */
  clock?: Clock;
  /**
   * Re-runs the stored run of this name: actions that finished in it return their stored outputs
   * and traced calls replay; the rest run. The run keeps its name.
   * @example `withRunContext({ resume: "20261123-2305-k3f9a" }).run(main, 10)`
   */
  resume?: string;
  /**
   * A shared cache tier behind the local one: any keyv instance (`new Keyv({ store: new KeyvRedis(url) })`).
   * Read on a local miss, written through after a local write; its failures are logged and ignored.
   */
  sharedCache?: SharedCache;
  /**
   * Pin every attempt to whole CPU cores of its own (at least one; `Resources({ cpu })` rounded up),
   * so benchmarks do not share cores. Pooled workers pin themselves through the native addon;
   * inline bodies are not pinned. `flyte.ctx().cpus` lists the cores. @default false
   */
  pinCpus?: boolean;
  /**
   * Environment variables added to every pooled attempt of the run (thread and process
   * runtimes), over the environments' own `envVars` and secrets. Device pinning variables
   * (`CUDA_VISIBLE_DEVICES`, `TPU_*`, `FLYTE_TS_*`) cannot be set. Inline bodies share this
   * process's environment and do not get them. `flyte-ts run --env KEY=VALUE`.
   */
  envVars?: Record<string, string>;
  /**
   * Discard a stored run of the same `name` before starting. Without it, starting a run under
   * a name already stored is an error (run names never merge): resume it or pick another name.
   * @default false
   */
  replace?: boolean;
  /**
   * Show the run's progress on stderr as `flyte-ts run` does: a tree redrawn in place on a
   * terminal, one line per event otherwise (`"tty"` or `"plain"` to choose), then a summary.
   * @default false
   */
  progress?: boolean | "tty" | "plain";
}

const runOptionKeys = [
  "mode",
  "name",
  "offload",
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
  "onLog",
  "echoLogs",
  "clock",
  "resume",
  "sharedCache",
  "pinCpus",
  "envVars",
  "replace",
  "progress",
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
  /** The run's folder (`runBaseDir`); its record is in `<flyte dir>/runs.db`. */
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

  /** The run's self-contained HTML report: timeline, actions, errors, task reports, output. */
  get reportPath(): string {
    return join(this.url, reportFileName);
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

/** The parts a run may take from somewhere else than the default engine (tests). */
export type RunEngine = EngineOptions;

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
  readonly #engine: Engine | EngineOptions | undefined;
  #ownEngine: Engine | undefined;

  /**
   * @param engine - the engine whose scheduler, pools and stores the run uses (an options object
   *   makes an engine of its own): @default this process's engine
   */
  constructor(options: RunOptions = {}, engine?: Engine | EngineOptions) {
    this.#options = checkRunOptions(options);
    this.#engine = engine;
  }

  #engineNow(): Engine {
    if (this.#engine instanceof Engine) return this.#engine;
    if (this.#engine === undefined) return defaultEngine();
    // Made once per run context: its stores and pools live as long as it does.
    this.#ownEngine ??= new Engine(this.#engine);
    return this.#ownEngine;
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
    if (inWorker()) throw runStartedDuringImport(task.name);
    const options = this.#options;
    const mode = options.mode ?? "local";
    const name = options.resume ?? options.name ?? newRunName();
    const home = resolve(options.cacheDir ?? process.env.FLYTE_TS_HOME ?? ".flyte");
    const engine = this.#engineNow();
    const stores = engine.storesOf(home);
    const runStore = stores.runs;
    // Hashed once here (the controller reuses it): inputs that cannot be hashed fail the root action.
    let inputsHash: string | undefined;
    try {
      inputsHash = hashInputs(task, args);
    } catch {
      inputsHash = undefined;
    }
    if (options.resume !== undefined) {
      checkResume(
        runStore,
        options.resume,
        { task, args, inputsHash, version: options.version },
        home,
      );
    }
    const clock = options.clock ?? systemClock;
    if (!options.dryRun) {
      claimRunName({
        runStore,
        home,
        name,
        resuming: options.resume !== undefined,
        replace: options.replace === true,
        now: clock.now(),
      });
    }
    const runBaseDir = resolve(options.runBaseDir ?? join(home, "runs", name));
    const rawDataPath = resolve(options.rawDataPath ?? join(home, "raw", name));
    try {
      await mkdir(rawDataPath, { recursive: true });
    } catch (error) {
      // A full disk must not fail the run before it starts; tasks that write there will say so.
      notRecorded.note(`the raw data folder ${rawDataPath}`, error);
    }
    const offload: OffloadRunSettings = {
      runName: name,
      mode,
      emitDir: resolve(options.copyBundleTo ?? join(home, "offload", name)),
      rawDataPath,
      copyStyle: options.copyStyle ?? "loaded_modules",
      interactive: options.interactiveMode === true,
      version: options.version,
      serviceAccount: options.serviceAccount,
      customContext: Object.freeze({ ...options.customContext }),
      clock,
      entryModule: task.moduleUrl,
      offload: options.offload,
      home,
    };
    if (options.dryRun) {
      await emitDryRun(offload, task, trimArgs(args));
      if (options.rawDataPath === undefined) await removeIfEmpty(rawDataPath);
      return new Run(name, offload.emitDir, new RunRecord(), undefined as Awaited<R>);
    }
    const scheduler = engine.scheduler;
    const offloadedBy = await offloadExecutorFor(offload, scheduler);
    const record = new RunRecord();
    const replay = options.resume === undefined ? undefined : runStore.replay(options.resume);
    const view = progressView(options.progress);
    const io = cacheKeyRecorder(runStore.database, name);
    const observers = [
      record.observe,
      runStore.observer(
        name,
        inputsHash === undefined
          ? undefined
          : {
              task: task.name,
              inputsHash,
              version: options.version,
              module: task.moduleUrl,
              args: trimArgs(args),
            },
      ),
      io.observe,
      telemetryObserver(),
      ...(view ? [view.onEvent] : []),
      ...(options.onEvent ? [options.onEvent] : []),
    ];
    const notify = (event: RunEvent) => {
      for (const observe of observers) {
        try {
          observe(event);
        } catch (error) {
          console.error("flyte-ts: a run observer threw; its event was skipped.", error);
        }
      }
    };
    // What observers print is not the output of the task whose call emitted the event.
    const emit = (event: RunEvent) => whileObserving(notify, event);
    const cancel = new AbortController();
    const onAbort = () =>
      cancel.abort(
        new RunCancelledError(`Run "${name}" was cancelled.`, { cause: options.signal?.reason }),
      );
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const cancelFor = (reason: string) =>
      cancel.abort(new RunCancelledError(`Run "${name}" was ${reason}.`));
    const unregister = registerActiveRun(name, cancelFor);
    const logs = new RunLogs(runBaseDir, {
      echo: options.echoLogs ?? true,
      ...(options.onLog ? { observer: options.onLog } : {}),
      now: () => clock.now(),
    });
    const stopCapture = captureInlineOutput(name, logs, options.echoLogs ?? true);
    const executors = new Set<Executor>();
    const pooled = withRunEnv(engine.executorsForRun(), options.envVars ?? {});
    const executorFor: ExecutorFactory = (template) => {
      const executor = offloadedBy?.(template) ?? pooled(template);
      executors.add(executor);
      return executor;
    };
    const customContext = Object.freeze({ ...options.customContext });
    const controller = new Controller({ clock, emit, replay, customContext });
    const attempts = new AttemptStage(
      {
        name,
        mode,
        clock,
        cancel: new CancelScope(cancel.signal),
        runBaseDir,
        rawDataPath,
        home,
        customContext: Object.freeze({ ...options.customContext }),
        pinCpus: options.pinCpus === true,
        emit,
        logs,
      },
      scheduler,
      executorFor,
      controller,
    );
    const localCache = stores.cache;
    controller.use({
      cache: new CacheStage(
        options.sharedCache ? new TieredCacheStore(localCache, options.sharedCache) : localCache,
        {
          read: !overwriteCache(options) && !options.disableRunCache,
          write: !options.disableRunCache,
          signal: cancel.signal,
          hit: (action) => emit({ type: "action-cache-hit", action, at: clock.now() }),
        },
      ),
      attempts,
    });
    emit({ type: "run-started", run: name, at: clock.now(), task: task.name, dir: runBaseDir });
    const stopWatch = watchOwnRun(runStore, name, scheduler, cancelFor, () => clock.now());
    try {
      const outputs = await controller.submitRoot(task, args, inputsHash);
      emit({ type: "run-finished", run: name, status: "succeeded", at: clock.now() });
      return new Run(name, runBaseDir, record, outputs as Awaited<R>);
    } catch (thrown) {
      const error = toTaskError(thrown);
      const status = error instanceof RunCancelledError ? "cancelled" : "failed";
      emit({ type: "run-finished", run: name, status, at: clock.now(), error: errorToData(error) });
      // Aborted bodies settle a few turns later; the caller gets resources back before the error.
      await attempts.leasesReturned(1_000);
      throw error;
    } finally {
      stopWatch();
      unregister();
      options.signal?.removeEventListener("abort", onAbort);
      await Promise.all([...executors].map((e) => e.close()));
      stopCapture();
      await logs.close();
      runStore.flush();
      io.flush();
      const data = record.toJSON();
      if (data !== undefined) {
        await writeRunReport(runBaseDir, data).catch((error: unknown) =>
          notRecorded.note(`the run report (${join(runBaseDir, reportFileName)})`, error),
        );
      }
      // What a full disk kept from being written is named once, after the results are in hand.
      const lost = notRecorded.take(home);
      if (lost !== undefined) warn(lost);
      view?.finish(join(runBaseDir, reportFileName));
      if (options.rawDataPath === undefined) await removeIfEmpty(rawDataPath);
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
  if (o.offload !== undefined && o.offload !== "kubernetes" && !isSlurm(o.offload)) {
    problems.add(
      "offload",
      `Expected \`offload\` to be "kubernetes", "slurm" or a flyte.Slurm, got ${describe(o.offload)}.`,
    );
  }
  if (o.mode === "hybrid" && (o.name === undefined || o.runBaseDir === undefined)) {
    problems.add("mode", 'A "hybrid" run needs both `name` and `runBaseDir` (upstream rule).');
  }
  if (o.replace === true && o.resume !== undefined) {
    problems.add("replace", "`replace` discards a stored run and `resume` continues it: give one.");
  }
  if (o.envVars !== undefined) {
    for (const [path, message] of runEnvProblems(o.envVars)) problems.add(path, message);
  }
  if (o.progress !== undefined && ![true, false, "tty", "plain"].includes(o.progress)) {
    problems.add(
      "progress",
      `Expected \`progress\` to be true, false, "tty" or "plain", got ${describe(o.progress)}.`,
    );
  }
  if (o.resume !== undefined && o.name !== undefined && o.name !== o.resume) {
    problems.add("resume", "A resumed run keeps its name: give `resume` or `name`, not both.");
  }
  if (
    o.sharedCache !== undefined &&
    (typeof o.sharedCache?.get !== "function" || typeof o.sharedCache?.set !== "function")
  ) {
    problems.add(
      "sharedCache",
      `Expected \`sharedCache\` to be a keyv instance (with get and set), got ${describe(o.sharedCache)}.`,
    );
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
  if (o.interactiveMode === true && o.copyStyle !== undefined) {
    problems.add(
      "interactiveMode",
      "`interactiveMode` ships the entry module bundled by itself, so `copyStyle` would do nothing: give one of them.",
    );
  }
  if (o.copyStyle !== undefined && !["loaded_modules", "all", "none"].includes(o.copyStyle)) {
    problems.add(
      "copyStyle",
      `Expected \`copyStyle\` to be "loaded_modules", "all" or "none", got ${describe(o.copyStyle)}.`,
    );
  }
  for (const key of [
    "dryRun",
    "interactiveMode",
    "overwriteCache",
    "disableRunCache",
    "pinCpus",
    "replace",
  ] as const) {
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
    "resume",
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
  if (o.onLog !== undefined && typeof o.onLog !== "function") {
    problems.add("onLog", `Expected \`onLog\` to be a function, got ${describe(o.onLog)}.`);
  }
  if (o.echoLogs !== undefined && typeof o.echoLogs !== "boolean") {
    problems.add(
      "echoLogs",
      `Expected \`echoLogs\` to be true or false, got ${describe(o.echoLogs)}.`,
    );
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

async function removeIfEmpty(dir: string): Promise<void> {
  for (const path of [dir, dirname(dir)]) {
    try {
      await rmdir(path);
    } catch {
      return; // Not empty (or gone): keep it.
    }
  }
}

function runStartedDuringImport(taskName: string): RuntimeUserError {
  return new RuntimeUserError(
    `A run of \`${taskName}\` was started while a worker was importing a task's module: the module starts a run at its top level ` +
      "(e.g. `await flyte.run(main)` outside any function), so every worker importing it for its tasks would start the run again. " +
      "Start runs inside `flyte.main(import.meta, async () => { ... })`, which runs only in the program's entry point, " +
      "or from another module that imports the tasks.",
    { code: runStartedDuringImportCode },
  );
}

/** `overwriteCache`, else `FLYTE_TS_OVERWRITE_CACHE=1` (or `true`) for programs. */
function overwriteCache(options: RunOptions): boolean {
  if (options.overwriteCache !== undefined) return options.overwriteCache;
  const env = process.env.FLYTE_TS_OVERWRITE_CACHE;
  return env === "1" || env === "true";
}
