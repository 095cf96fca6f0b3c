/**
 * The task context: what a running task can learn about itself through `flyte.ctx()`, kept in
 * AsyncLocalStorage so concurrent tasks on one thread each see their own.
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { ErrorData } from "../errors.js";
import type { CallPacer } from "./call-pacer.js";
import { Checkpoint } from "./checkpoint.js";
import type { Report } from "./report.js";

/** Where a run executes. Only `"local"` runs here; the others emit or offload. */
export type RunMode = "local" | "remote" | "hybrid";

/** The identity of an action within a run. */
export interface ActionId {
  /** The action's name: `"a0"` for the root, a stable hash for sub-actions and traces. */
  readonly name: string;
  /** The run this action belongs to. */
  readonly runName: string;
}

/**
 * Makes an {@link ActionId} that prints readably, as upstream's `ActionID(name, run_name)` does:
 * `String(flyte.ctx().action)` is `ActionID(name="a0", run_name="demo")`. The printing is not
 * data: copies made for workers rebuild it with this function.
 */
export function actionId(name: string, runName: string): ActionId {
  return new PrintableActionId(name, runName);
}

/** An action id with its printing on the prototype (one per attempt: it has to be cheap). */
class PrintableActionId implements ActionId {
  readonly name: string;
  readonly runName: string;

  constructor(name: string, runName: string) {
    this.name = name;
    this.runName = runName;
    Object.freeze(this);
  }

  toString(): string {
    return `ActionID(name=${JSON.stringify(this.name)}, run_name=${JSON.stringify(this.runName)})`;
  }
}

/** A device assigned to a running attempt by the scheduler (exclusive until the attempt ends). */
export interface AssignedDevice {
  /** A whole GPU, one MIG slice of a GPU, or one TPU chip. */
  readonly kind: "gpu" | "mig" | "tpu";
  readonly vendor: "nvidia" | "amd" | "google";
  /** The host index: of the GPU (the MIG slice's parent GPU), or of the TPU chip. */
  readonly index: number;
  /** What the pinning variables carry: `GPU-<uuid>`, `MIG-<uuid>`, the AMD index, or the TPU chip index. */
  readonly id: string;
  /** The product name, e.g. `"NVIDIA H100 80GB HBM3"`, or the TPU generation (`"v5p"`). */
  readonly name: string;
  /** The MIG profile of a slice (`"1g.10gb"`), else `undefined`. */
  readonly partition: string | undefined;
  /**
   * The share of the GPU this attempt holds (`0.5`) when it asked for a fraction; other attempts
   * may share the device. Absent for a device held whole.
   */
  readonly share?: number;
}

/** The serialisable part of a task context: what crosses to a worker with each attempt. */
export interface TaskContextData {
  readonly action: ActionId;
  /** The task's fully qualified name, `"<env>.<function>"`. */
  readonly taskName: string;
  /** 0 for the first attempt, 1 for the first retry, and so on. */
  readonly attemptNumber: number;
  readonly mode: RunMode;
  /** The cache version of the task, `""` when caching is off. */
  readonly version: string;
  /** The group the *calling code* is in (set by `flyte.group`), or `undefined`. */
  readonly group: string | undefined;
  /** This action's own folder: `<runBaseDir>/<action name>`. */
  readonly outputPath: string;
  /** Folder for large data the task writes (shared by the run). */
  readonly rawDataPath: string;
  /** The run's folder. */
  readonly runBaseDir: string;
  /**
   * Key-value pairs given to `withRunContext({ customContext })`, merged with the
   * `flyte.customContext` blocks the calling code was in; inherited by every action.
   */
  readonly customContext: Readonly<Record<string, string>>;
  /** The GPUs, MIG slices and TPU chips this attempt holds (empty when it asked for none). */
  readonly devices: readonly AssignedDevice[];
  /** The CPU cores this attempt is pinned to (`withRunContext({ pinCpus: true })`), else empty. */
  readonly cpus: readonly number[];
  /**
   * The attempt's private folder of mounted secrets (`Secret({ mount })`), the local stand-in for
   * `/etc/flyte/secrets`: a secret's file is `<secretsDir>/<group>/<key>` (`Secret.relativePath`),
   * mode 0600, removed when the attempt ends. `undefined` when the task mounts no secret.
   */
  readonly secretsDir?: string;
}

/** What one run's attempts share in their contexts. */
export interface RunContextData {
  readonly runName: string;
  readonly mode: RunMode;
  readonly rawDataPath: string;
  readonly runBaseDir: string;
  readonly customContext: Readonly<Record<string, string>>;
}

/** What is particular to one attempt. */
export interface AttemptContextData {
  readonly action: string;
  readonly taskName: string;
  readonly attemptNumber: number;
  readonly version: string;
  readonly group: string | undefined;
  readonly devices: readonly AssignedDevice[];
  readonly cpus: readonly number[];
  /** Where the attempt's mounted secrets are, when it has any. */
  readonly secretsDir?: string | undefined;
}

/**
 * An attempt's context, built the one way both the controller and a worker build it (the worker
 * from the same facts, sent once per run and per attempt).
 */
export function taskContext(run: RunContextData, attempt: AttemptContextData): TaskContextData {
  const context: { -readonly [K in keyof TaskContextData]: TaskContextData[K] } = {
    action: actionId(attempt.action, run.runName),
    taskName: attempt.taskName,
    attemptNumber: attempt.attemptNumber,
    mode: run.mode,
    version: attempt.version,
    group: attempt.group,
    outputPath: `${run.runBaseDir}/${attempt.action}`,
    rawDataPath: run.rawDataPath,
    runBaseDir: run.runBaseDir,
    customContext: run.customContext,
    devices: attempt.devices,
    cpus: attempt.cpus,
  };
  if (attempt.secretsDir !== undefined) context.secretsDir = attempt.secretsDir;
  return context;
}

/**
 * What `flyte.ctx()` returns inside a running task.
 *
 * @example
 * ```ts
 * const fit = env.task(async function fit() {
 *   const c = flyte.ctx()!;
 *   console.log(c.action.name, c.attemptNumber, c.group);
 *   c.signal.throwIfAborted();   // stop early when the attempt times out
 * });
 * ```
 */
export interface TaskContext extends TaskContextData {
  /** Aborts when the attempt must stop: its `maxRuntime` passed or the run was cancelled. */
  readonly signal: AbortSignal;
  /**
   * The action's checkpoint: `save(bytesOrFilePath)` after each step, `load()` at the start to
   * continue from the last step saved by an earlier attempt or before the run was resumed.
   */
  readonly checkpoint: Checkpoint;
}

/**
 * The context `flyte.ctx()` returns for one attempt: its data as plain fields, and its `signal`
 * and `checkpoint` made when the body first asks for them (most never do). A class, so both are
 * getters on its prototype: an object literal with getters is a slow dictionary object, and
 * every task call makes one of these. Contexts derived inside the attempt (a group, a traced
 * call, `flyte.customContext`) are made by {@link withContext} and share the attempt's signal
 * and checkpoint.
 */
class AttemptContext implements TaskContext {
  // The data fields are the TaskContextData the context is made from (copied in the constructor).
  declare readonly action: ActionId;
  declare readonly taskName: string;
  declare readonly attemptNumber: number;
  declare readonly mode: RunMode;
  declare readonly version: string;
  declare readonly group: string | undefined;
  declare readonly outputPath: string;
  declare readonly rawDataPath: string;
  declare readonly runBaseDir: string;
  declare readonly customContext: Readonly<Record<string, string>>;
  declare readonly devices: readonly AssignedDevice[];
  declare readonly cpus: readonly number[];
  declare readonly secretsDir?: string;
  readonly #shared: AttemptShared;

  constructor(data: TaskContextData, shared: AttemptShared) {
    Object.assign(this, data);
    this.#shared = shared;
  }

  get signal(): AbortSignal {
    return this.#shared.abort.signal;
  }

  get checkpoint(): Checkpoint {
    const shared = this.#shared;
    shared.checkpoint ??= new Checkpoint(shared.folder, shared.action);
    return shared.checkpoint;
  }

  /** This context with `changes` (the same attempt: the same signal and checkpoint). */
  with(changes: Partial<TaskContextData>): AttemptContext {
    return new AttemptContext({ ...this, ...changes }, this.#shared);
  }
}

/** What every context of one attempt shares. */
interface AttemptShared {
  readonly abort: { readonly signal: AbortSignal };
  /** The attempt's own folder and action, where its checkpoint is (a traced call's too). */
  readonly folder: string;
  readonly action: string;
  checkpoint?: Checkpoint;
}

/**
 * The context of an attempt whose data is `data` and whose abort is `abort` (its signal is read
 * only when the body asks for it).
 */
export function attemptContext(
  data: TaskContextData,
  abort: { readonly signal: AbortSignal },
): TaskContext {
  return new AttemptContext(data, { abort, folder: data.outputPath, action: data.action.name });
}

/** `context` with `changes`, keeping the attempt's signal and checkpoint. */
export function withContext(context: TaskContext, changes: Partial<TaskContextData>): TaskContext {
  return context instanceof AttemptContext ? context.with(changes) : { ...context, ...changes };
}

/** A traced call's recorded result, kept per action so the next attempt can replay it. */
export type TraceRecord =
  | { readonly ok: true; readonly value: unknown; readonly items?: readonly unknown[] }
  | { readonly ok: false; readonly error: ErrorData };

/** A call of a task made from inside another task, on its way to the controller. */
export interface SubCall {
  /** Fully qualified task name. */
  readonly taskName: string;
  /** The module where the task was defined (with the name, the task's identity). */
  readonly module?: string | undefined;
  /** The settings of the override called, when it is one (see api/task-ref.ts). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  readonly args: readonly unknown[];
  /** The calling action. */
  readonly parent: string;
  readonly group: string | undefined;
  /** Per-(parent, task, inputs, group) call sequence number, from 1. */
  readonly seq: number;
  /** The canonical hash of `args`, computed by the caller. */
  readonly inputsHash: string;
  /** Set when `args` is `[items]`, a chunk of a batched `flyte.map` to run item by item. */
  readonly batch?: true;
  /**
   * The caller's custom context (the run's, merged with `flyte.customContext` blocks), which the
   * sub-action inherits; left out when empty.
   */
  readonly customContext?: Readonly<Record<string, string>>;
  /** Set for the items of a `flyte.map` that a cluster may submit together (a Slurm job array). */
  readonly mapItem?: MapItem;
}

/** One item of a `flyte.map` whose calls are submitted together. */
export interface MapItem {
  /** Identifies the map call (unique within the run). */
  readonly map: string;
  /** The item's position, from 0. */
  readonly index: number;
  /** How many items the map has. */
  readonly count: number;
  /** The map's `concurrency` (0: no limit). */
  readonly concurrency: number;
}

/**
 * What a running task body can ask of the controller. Inline tasks hold the controller itself;
 * tasks in workers hold a proxy that forwards over the worker's channel.
 */
export interface ControllerChannel {
  /** Runs a sub-action and resolves with its outputs (or rejects with its error). */
  submit(call: SubCall, task?: unknown): Promise<unknown>;
  /** Records a finished traced call (fire and forget). */
  recordTrace(action: string, traceId: string, record: TraceRecord): void;
  /**
   * Paces the calls of bodies on the controller's own thread (inline bodies); absent in a
   * worker, whose calls travel to the controller as messages.
   */
  readonly pacer?: CallPacer | undefined;
}

/** Everything the engine keeps for the body running in the current async scope. */
export interface Frame {
  readonly context: TaskContext;
  readonly channel: ControllerChannel;
  /** Traced calls recorded by earlier attempts of this action: replayed, not re-run. */
  readonly traces: ReadonlyMap<string, TraceRecord>;
  /** Call sequence counters, shared by every frame of one attempt (groups, traces). */
  readonly sequences: Map<string, number>;
  /** Set while a `flyte.trace` body runs: calling a task there is an error. */
  readonly inTrace: boolean;
  /**
   * The attempt's `flyte.report` tabs (and the action its output is logged under, also inside
   * traced calls). Executors create one per attempt; a worker ships it back by flushing it.
   */
  readonly report?: Report;
}

// One store per process, even if two copies of flyte-ts are loaded (src and dist, or two
// versions): the context set by one must be visible to tasks defined against the other.
const storageKey = Symbol.for("flyte-ts.context.v1");
const globalSlot = globalThis as { [storageKey]?: AsyncLocalStorage<Frame> };
globalSlot[storageKey] ??= new AsyncLocalStorage();
const storage: AsyncLocalStorage<Frame> = globalSlot[storageKey];

/** The frame of the task running in this async scope, if any. */
export function currentFrame(): Frame | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` outside any task's frame: for engine work (event observers, span exporters) that
 * must not be attributed to the task whose call happened to trigger it, and for what outlives
 * the run it starts in (a worker, a writer thread): an async resource keeps the frame current
 * where it was made, and with it the frame's run (its controller and record) until it ends.
 */
export function outsideFrame<T>(fn: () => T): T {
  // Not `storage.exit`: on Node 20 it disables and re-enables the async hooks on every call.
  return storage.run(undefined as unknown as Frame, fn);
}

/** Runs `fn` with `frame` as the current frame. */
export function runInFrame<T>(frame: Frame, fn: () => T): T {
  return storage.run(frame, fn);
}

/**
 * The context of the task running now, or `null` outside a task (a plain function call, or
 * code outside any run).
 *
 * @example
 * ```ts
 * const ctx = flyte.ctx();
 * if (ctx) console.log(`attempt ${ctx.attemptNumber} of ${ctx.action.name}`);
 * ```
 */
export function ctx(): TaskContext | null {
  return storage.getStore()?.context ?? null;
}

/** The next call-sequence number for `key` within the current attempt (1, 2, 3, ...). */
export function nextSequence(frame: Frame, key: string): number {
  const seq = (frame.sequences.get(key) ?? 0) + 1;
  frame.sequences.set(key, seq);
  return seq;
}
