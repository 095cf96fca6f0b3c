/**
 * The body of a run: names it, opens the stores, wires the controller's stages and observers,
 * runs the root call and writes the record. `run.ts` imports this module when a run starts, so
 * importing `flyte-ts` (a worker importing a task's module, a program before its first run) does
 * not load the controller, the stores, the offload emitters or the report.
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, rmdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Task } from "../api/task.js";
import { CacheStage } from "../cache/cache-stage.js";
import { hashInputs, trimArgs } from "../cache/inputs.js";
import { TieredCacheStore } from "../cache/shared-tier.js";
import { errorToData, RunCancelledError, toTaskError } from "../errors.js";
import { AttemptStage } from "../execution/attempt-stage.js";
import { CancelScope } from "../execution/cancel-scope.js";
import type { Executor, ExecutorFactory } from "../execution/executor.js";
import { notRecorded } from "../internal/not-recorded.js";
import { systemClock } from "../internal/time.js";
import { warn } from "../internal/warn.js";
import type { OffloadRunSettings } from "../offload/run-offload.js";
import { cacheKeyRecorder } from "../record/action-io.js";
import type { RunEvent, RunObserver } from "../record/events.js";
import { captureInlineOutput, RunLogs, whileObserving } from "../record/logs.js";
import { RunRecord } from "../record/run-record.js";
import { telemetryObserver } from "../record/telemetry.js";
import { reportFileName, writeRunReport } from "../record/write-report.js";
import { LimitedScheduler } from "../scheduler/limited-scheduler.js";
import { registerActiveRun } from "./active-runs.js";
import { Controller } from "./controller.js";
import type { Engine } from "./engine.js";
import { checkResume } from "./resume-check.js";
import { Run } from "./run.js";
import { claimDrawnName, claimRunName } from "./run-claim.js";
import { withRunEnv } from "./run-env.js";
import type { RunOptions } from "./run-options.js";
import { progressView } from "./run-progress.js";
import { watchOwnRun } from "./run-watch.js";

/**
 * Runs `task` with `args` on `engine` with checked `options` (see `RunContext.run`).
 * @internal
 */
export async function startRun<A extends unknown[], R>(
  options: RunOptions,
  engine: Engine,
  task: Task<A, R>,
  args: A,
): Promise<Run<Awaited<R>>> {
  const mode = options.mode ?? "local";
  const given = options.resume ?? options.name;
  const home = resolve(options.cacheDir ?? process.env.FLYTE_TS_HOME ?? ".flyte");
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
  // A name the caller gave is claimed as it is; a generated one is drawn again if it is taken.
  const claim = {
    runStore,
    home,
    resuming: options.resume !== undefined,
    replace: options.replace === true,
    now: clock.now(),
  };
  let name: string;
  if (options.dryRun) name = given ?? newRunName();
  else if (given === undefined) name = claimDrawnName(claim, newRunName);
  else {
    name = given;
    claimRunName({ ...claim, name });
  }
  const runBaseDir = resolve(options.runBaseDir ?? join(home, "runs", name));
  const rawDataPath = resolve(options.rawDataPath ?? join(home, "raw", name));
  try {
    await mkdir(rawDataPath, { recursive: true });
  } catch (error) {
    // A full disk must not fail the run before it starts; tasks that write there will say so.
    notRecorded.note(`the raw data folder ${rawDataPath}`, error);
  }
  // The run's custom context, one frozen copy for the offload settings, the controller and the
  // attempts (pools key what they send workers by it).
  const customContext = Object.freeze({ ...options.customContext });
  const offload: OffloadRunSettings = {
    runName: name,
    mode,
    emitDir: resolve(options.copyBundleTo ?? join(home, "offload", name)),
    rawDataPath,
    copyStyle: options.copyStyle ?? "loaded_modules",
    interactive: options.interactiveMode === true,
    version: options.version,
    serviceAccount: options.serviceAccount,
    customContext,
    clock,
    entryModule: task.moduleUrl,
    offload: options.offload,
    home,
  };
  // The emitters and the Kubernetes and Slurm executors load only for a run that offloads.
  if (options.dryRun) {
    const { emitDryRun } = await import("../offload/run-offload.js");
    await emitDryRun(offload, task, trimArgs(args));
    if (options.rawDataPath === undefined) await removeIfEmpty(rawDataPath);
    return new Run(name, offload.emitDir, new RunRecord(), undefined as Awaited<R>);
  }
  const scheduler = engine.scheduler;
  const offloadedBy =
    mode === "local"
      ? undefined
      : await (await import("../offload/run-offload.js")).offloadExecutorFor(offload, scheduler);
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
    for (let i = 0; i < observers.length; i++) {
      const observe = observers[i] as RunObserver;
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
      customContext,
      pinCpus: options.pinCpus === true,
      resumed: options.resume !== undefined,
      emit,
      logs,
    },
    new LimitedScheduler(scheduler, engine.limits, options.maxActionConcurrency),
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
  // On record as running before its first task starts (a warm worker starts it at once): a
  // process killed then is still found, and shown as died.
  runStore.flush();
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

function newRunName(): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 12);
  return `${stamp.slice(0, 8)}-${stamp.slice(8)}-${randomBytes(4).toString("hex").slice(0, 5)}`;
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

/** `overwriteCache`, else `FLYTE_TS_OVERWRITE_CACHE=1` (or `true`) for programs. */
function overwriteCache(options: RunOptions): boolean {
  if (options.overwriteCache !== undefined) return options.overwriteCache;
  const env = process.env.FLYTE_TS_OVERWRITE_CACHE;
  return env === "1" || env === "true";
}
