/**
 * The options of a run (`withRunContext(options)`) and their check: every problem reported at
 * once, each with its path.
 * @module
 */
import { isSlurm } from "../api/slurm.js";
import type { Offload } from "../api/task.js";
import type { SharedCache } from "../cache/shared-tier.js";
import type { RunMode } from "../context/context.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";
import type { Clock } from "../internal/time.js";
import type { CopyStyle } from "../offload/bundle.js";
import type { RunObserver } from "../record/events.js";
import type { LogObserver } from "../record/logs.js";
import { runEnvProblems } from "./run-env.js";

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
  /**
   * At most this many actions of the run hold a slot at once (flyte's `--max-action-concurrency`),
   * the root included; the rest wait, first come first served, shown as waiting for the run's
   * limit. A parent awaiting its children lends its slot to them, so any limit of 1 or more
   * finishes (upstream counts awaiting parents and rejects 1). Cache hits take no slot; actions
   * offloaded to a cluster are not counted. `flyte-ts run --max-action-concurrency N`.
   * @default no limit
   */
  maxActionConcurrency?: number;
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
  "maxActionConcurrency",
] as const;

/** Checks `options` and returns a copy. @throws InvalidConfigError listing every problem */
export function checkRunOptions(options: RunOptions): RunOptions {
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
  if (
    o.maxActionConcurrency !== undefined &&
    (typeof o.maxActionConcurrency !== "number" ||
      !Number.isInteger(o.maxActionConcurrency) ||
      o.maxActionConcurrency < 1)
  ) {
    problems.add(
      "maxActionConcurrency",
      `Expected \`maxActionConcurrency\` to be an integer of 1 or more, got ${describe(o.maxActionConcurrency)}. Leave it out for no limit.`,
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
