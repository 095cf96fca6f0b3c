/**
 * The seam between the controller and where a task body runs. The controller hands an executor
 * one attempt at a time; the inline executor runs it on this thread, the pools run it on a worker
 * thread or a child process.
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import type {
  ControllerChannel,
  MapItem,
  TaskContextData,
  TraceRecord,
} from "../context/context.js";
import type { LogSink } from "../record/logs.js";
import type { AttemptAbort } from "./attempt-abort.js";

/** One attempt of one action, ready to run. */
export interface ExecuteRequest {
  readonly template: TaskTemplate;
  /** The caller's arguments. An executor must give the body copies, never these objects. */
  readonly args: readonly unknown[];
  readonly context: TaskContextData;
  /** Traced calls recorded by earlier attempts of this action. */
  readonly traces: ReadonlyMap<string, TraceRecord>;
  /** Where the body's own task calls and trace records go. */
  readonly channel: ControllerChannel;
  /**
   * Aborted when the attempt must stop (timeout or cancellation); the executor stops the body.
   * Listen with `onAbort`; its `signal` (an AbortSignal, made on first read) is for bodies and
   * for APIs that take one.
   */
  readonly abort: AttemptAbort;
  /** Environment variables for the body's worker: the task's `envVars` plus resolved secrets. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Where the body's stdout and stderr go. Pools feed it the worker's output for this attempt
   * (`logs.write(context.action.name, "stdout", chunk)`); inline bodies are captured by the run.
   */
  readonly logs?: LogSink;
  /**
   * Tells the controller which worker (lane) took the attempt, e.g. `"demo/thread-3"` or
   * `"gpu-train/process-4121"`, with its pid or thread id when known; it becomes the attempt's
   * timeline lane. Called once, when the attempt leaves the executor's queue.
   */
  readonly placed?: (
    lane: string,
    where?: { readonly pid?: number; readonly threadId?: number },
  ) => void;
  /**
   * Tells the controller the executor took the attempt back from the worker it was placed on,
   * before its body started (an attempt sent ahead and called back): it is placed again later.
   */
  readonly unplaced?: () => void;
  /** Tells the controller the body has started running (maxRuntime counts from here). */
  readonly started?: () => void;
  /**
   * Tells the controller the body has ended, before the executor gives its worker the next
   * attempt: the attempt's recorded end. Optional (the settled promise marks it otherwise).
   */
  readonly ended?: () => void;
  /**
   * Set when the action is an item of a `flyte.map` whose items may be submitted together
   * (remote executors: one Slurm job array).
   */
  readonly mapItem?: MapItem | undefined;
}

/** Runs task bodies. One instance serves every attempt of one environment in one run or pool. */
export interface Executor {
  /**
   * Set when the executor calls `placed` and `started` itself. Otherwise the controller takes the
   * hand-over to `execute` as both (the body is taken to start at once).
   */
  readonly reportsPhases?: boolean;
  /**
   * Set when bodies run on another machine (offload): the controller then does not admit the
   * attempt against this host's CPUs, memory and devices.
   */
  readonly remote?: boolean;
  /** Runs one attempt and resolves with a copy of its output, or rejects with its error. */
  execute(request: ExecuteRequest): Promise<unknown>;
  /** Stops the executor's workers. Idempotent. */
  close(): Promise<void>;
}

/** Makes (or reuses) the executor for a task; supplied to the controller. */
export type ExecutorFactory = (template: TaskTemplate) => Executor;
