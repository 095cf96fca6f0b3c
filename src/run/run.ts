/**
 * `withRunContext(options).run(task, ...args)` and `flyte.run(task, ...args)`: one run of a task,
 * with its record written to the run store, `<flyte dir>/runs.db`. What a run does is in
 * `start-run.ts`, imported when the first run starts.
 * @module
 */
import { join } from "node:path";
import { isTask, type Task, type TaskTemplate } from "../api/task.js";
import { RuntimeUserError } from "../errors.js";
import {
  discardSpareThread,
  fitsSpareThread,
  startSpareThread,
} from "../execution/spare-thread.js";
import { workerEntryUrl } from "../execution/worker-handle.js";
import { saveEngineCache } from "../internal/engine-cache.js";
import { describe } from "../internal/problems.js";
import { inWorker, runStartedDuringImportCode } from "../internal/worker-flag.js";
import type { CopyStyle } from "../offload/bundle.js";
import type { RunStatus } from "../record/events.js";
import { reportFileName } from "../record/report-file.js";
import type { ActionRecord, RunRecord } from "../record/run-record.js";
import type { Engine, EngineOptions } from "./engine.js";
import { prestartsRoot } from "./root-prestart.js";
import { checkRunOptions, type RunOptions } from "./run-options.js";
import { theDefaultEngine } from "./shutdown.js";

export type { CopyStyle, RunOptions };

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

  async #engineNow(): Promise<Engine> {
    const { defaultEngine, Engine } = await import("./engine.js");
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
    const root = task as unknown as TaskTemplate;
    // A process's first run: the root's worker thread boots while this thread loads the engine.
    const first = this.#engine === undefined && theDefaultEngine() === undefined;
    if (first && prestartsRoot(root, this.#options) && fitsSpareThread(root)) {
      startSpareThread(
        workerEntryUrl,
        root.moduleUrl === undefined
          ? undefined
          : { moduleUrl: root.moduleUrl, taskName: root.name },
      );
    }
    const engine = await this.#engineNow();
    // The root's worker starts now (or is the spare), loading its modules on another core while
    // this thread loads the controller and opens the stores.
    engine.prestartRoot(root, this.#options);
    const { startRun } = await import("./start-run.js");
    try {
      return await startRun(this.#options, engine, task, args);
    } finally {
      // A spare no pool of the run took (its root did not start ahead) has no use left.
      if (first) discardSpareThread();
      // The engine has compiled what a run needs: later processes start from that.
      saveEngineCache();
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

function runStartedDuringImport(taskName: string): RuntimeUserError {
  return new RuntimeUserError(
    `A run of \`${taskName}\` was started while a worker was importing a task's module: the module starts a run at its top level ` +
      "(e.g. `await flyte.run(main)` outside any function), so every worker importing it for its tasks would start the run again. " +
      "Start runs inside `flyte.main(import.meta, async () => { ... })`, which runs only in the program's entry point, " +
      "or from another module that imports the tasks.",
    { code: runStartedDuringImportCode },
  );
}
