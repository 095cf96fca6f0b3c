/**
 * The controller: the spine of a run. For each call, in order: action id → cache → attempts
 * (admission → dispatch) → record. Stage logic lives in its own folder; this file only sequences.
 * @module
 */

import type { TaskTemplate } from "../api/task.js";
import { lookupTask } from "../api/task-environment.js";
import { cacheKey, cacheVersion } from "../cache/cache-key.js";
import type { CacheStore } from "../cache/cache-store.js";
import type { ControllerChannel, RunMode, SubCall, TraceRecord } from "../context/context.js";
import {
  errorToData,
  type FlyteError,
  RunCancelledError,
  RuntimeSystemError,
  toTaskError,
} from "../errors.js";
import { runAttempts } from "../execution/attempt.js";
import { batchTemplate, isBatch } from "../execution/batch.js";
import type { CancelScope } from "../execution/cancel-scope.js";
import type { ExecutorFactory } from "../execution/executor.js";
import { resolveSecrets } from "../execution/secrets.js";
import { shortId } from "../internal/hash.js";
import { hashInputs } from "../internal/inputs.js";
import type { Clock } from "../internal/time.js";
import { actionLabel } from "../record/action-label.js";
import type { RunEvent } from "../record/events.js";
import type { LogSink } from "../record/logs.js";
import type { Replay } from "../record/run-store.js";
import {
  type AdmissionRequest,
  type Lease,
  lendWhileWaiting,
  noLease,
  type Scheduler,
} from "../scheduler/scheduler.js";

/** The run-wide facts every action shares. */
export interface RunState {
  readonly name: string;
  readonly mode: RunMode;
  readonly clock: Clock;
  /** The run's cancellation. */
  readonly cancel: CancelScope;
  readonly runBaseDir: string;
  readonly rawDataPath: string;
  /** The `.flyte` folder (secrets.env, cache, runs). */
  readonly home: string;
  readonly customContext: Readonly<Record<string, string>>;
  /** Look results up in the cache (off with `overwriteCache` or `disableRunCache`). */
  readonly cacheRead: boolean;
  /** Store results in the cache (off with `disableRunCache`). */
  readonly cacheWrite: boolean;
  /** Pin each attempt to whole cores of its own (`withRunContext({ pinCpus: true })`). */
  readonly pinCpus?: boolean;
  readonly emit: (event: RunEvent) => void;
  /** Where task output is captured (handed to executors). */
  readonly logs: LogSink;
  /** What a resumed run replays instead of running again. */
  readonly replay?: Replay | undefined;
}

/** The stages the controller sequences. */
export interface ControllerStages {
  readonly executorFor: ExecutorFactory;
  readonly cache: CacheStore;
  readonly scheduler: Scheduler;
}

/** The id of the root action of every run. */
export const rootActionId = "a0";

const noTraces: ReadonlyMap<string, TraceRecord> = new Map();

type AttemptFinished = Extract<RunEvent, { type: "attempt-finished" }>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The attempt's environment variables: the task's own object when nothing is added, so that
 * executors can key their pools by it without copying it on every call.
 */
function attemptEnv(
  envVars: Readonly<Record<string, string>>,
  secrets: Readonly<Record<string, string>> | undefined,
  leaseEnv: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  if (secrets === undefined && isEmptyRecord(leaseEnv)) return envVars;
  return { ...envVars, ...secrets, ...leaseEnv };
}

function isEmptyRecord(record: object): boolean {
  for (const _ in record) return false;
  return true;
}

/** Runs the actions of one run. */
export class Controller implements ControllerChannel {
  readonly #run: RunState;
  readonly #stages: ControllerStages;
  readonly #traces = new Map<string, Map<string, TraceRecord>>();
  readonly #inFlight = new Map<string, Promise<unknown>>();
  /** Attempts holding a lease, and who waits for them all to give it back. */
  readonly #holding = { count: 0, waiters: [] as (() => void)[] };
  readonly #secrets = new Map<TaskTemplate, Promise<Record<string, string>>>();

  constructor(run: RunState, stages: ControllerStages) {
    this.#run = run;
    this.#stages = stages;
  }

  /** Runs the run's root task. */
  submitRoot(template: TaskTemplate, args: readonly unknown[]): Promise<unknown> {
    return this.#action(
      rootActionId,
      undefined,
      template,
      args,
      hashInputs(template, args),
      undefined,
    );
  }

  /** Runs a sub-action called from a running task. */
  submit(call: SubCall, known?: unknown): Promise<unknown> {
    const found = (known as TaskTemplate | undefined) ?? lookupTask(call.taskName);
    const template =
      call.batch && found !== undefined && !isBatch(found) ? batchTemplate(found) : found;
    if (template === undefined) {
      return Promise.reject(
        new RuntimeSystemError(
          `Task \`${call.taskName}\` is not defined in the controller's process.`,
        ),
      );
    }
    const group = call.group === undefined ? "" : `-${call.group}`;
    const id = shortId(`${call.parent}-${call.inputsHash}-${template.name}-${call.seq}${group}`);
    return this.#action(id, call.parent, template, call.args, call.inputsHash, call.group);
  }

  /**
   * Resolves when every attempt has given its lease back (their bodies settled), or after
   * `graceMs` of wall time for a body that ignores its abort signal. Milliseconds.
   */
  leasesReturned(graceMs: number): Promise<void> {
    if (this.#holding.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      timer.unref();
      this.#holding.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  recordTrace(action: string, traceId: string, record: TraceRecord): void {
    const traces = this.#traces.get(action) ?? new Map<string, TraceRecord>();
    this.#traces.set(action, traces.set(traceId, record));
    this.#run.emit({
      type: "trace-recorded",
      action,
      trace: traceId,
      ok: record.ok,
      at: this.#run.clock.now(),
      record,
    });
  }

  async #action(
    id: string,
    parent: string | undefined,
    template: TaskTemplate,
    args: readonly unknown[],
    inputsHash: string,
    group: string | undefined,
  ): Promise<unknown> {
    const run = this.#run;
    run.emit({
      type: "action-queued",
      action: id,
      parent,
      task: template.name,
      group,
      at: run.clock.now(),
      label: actionLabel(template.name, template.displayName, template.parameters, args),
      inputs: args,
      parameters: template.parameters,
      inputsHash,
    });
    try {
      const replayed = this.#replayed(id);
      const output =
        replayed !== undefined
          ? replayed.value
          : await this.#cached(id, template, args, inputsHash);
      run.emit({
        type: "action-finished",
        action: id,
        status: "succeeded",
        at: run.clock.now(),
        output,
      });
      return output;
    } catch (thrown) {
      const error = toTaskError(thrown);
      const status = error instanceof RunCancelledError ? "cancelled" : "failed";
      run.emit({
        type: "action-finished",
        action: id,
        status,
        at: run.clock.now(),
        error: errorToData(error),
      });
      throw error;
    } finally {
      this.#traces.delete(id);
    }
  }

  /**
   * The resume stage: an action that finished in the resumed run returns its stored output; one
   * that did not starts with the traced calls it recorded there.
   */
  #replayed(id: string): { readonly value: unknown } | undefined {
    const replay = this.#run.replay;
    if (replay === undefined) return undefined;
    const stored = replay.output(id);
    if (stored !== undefined) {
      this.#run.emit({
        type: "action-cache-hit",
        action: id,
        at: this.#run.clock.now(),
        source: "resume",
      });
      return stored;
    }
    const traces = replay.traces(id);
    if (traces !== undefined) this.#traces.set(id, new Map(traces));
    return undefined;
  }

  /** The cache stage: a hit never reaches admission or a worker. */
  async #cached(
    id: string,
    template: TaskTemplate,
    args: readonly unknown[],
    inputsHash: string,
  ): Promise<unknown> {
    const run = this.#run;
    if (!template.cache.isEnabled() || !(run.cacheRead || run.cacheWrite)) {
      return this.#attempts(id, template, args);
    }
    const key = cacheKey(template, args, inputsHash);
    if (run.cacheRead) {
      const hit = await this.#stages.cache.get(key);
      if (hit !== undefined) {
        run.emit({ type: "action-cache-hit", action: id, at: run.clock.now() });
        return hit.value;
      }
    }
    if (template.cache.serialize) {
      const leader = this.#inFlight.get(key);
      if (leader !== undefined) {
        run.emit({ type: "action-cache-hit", action: id, at: run.clock.now() });
        return structuredClone(await leader);
      }
    }
    if (!template.cache.serialize) return this.#computed(key, id, template, args);
    const running = this.#leading(key, id, template, args);
    this.#inFlight.set(key, running);
    running.then(
      () => this.#inFlight.delete(key),
      () => this.#inFlight.delete(key),
    );
    return running;
  }

  /** `serialize: true` across processes: one caller per key runs, the others get its value. */
  async #leading(
    key: string,
    id: string,
    template: TaskTemplate,
    args: readonly unknown[],
  ): Promise<unknown> {
    const run = this.#run;
    const lead = run.cacheRead
      ? await this.#stages.cache.lead?.(key, run.cancel.signal)
      : undefined;
    if (lead?.hit !== undefined) {
      run.emit({ type: "action-cache-hit", action: id, at: run.clock.now() });
      return lead.hit.value;
    }
    try {
      return await this.#computed(key, id, template, args);
    } finally {
      lead?.release();
    }
  }

  /** Runs the attempts and stores the output. */
  async #computed(
    key: string,
    id: string,
    template: TaskTemplate,
    args: readonly unknown[],
  ): Promise<unknown> {
    const output = await this.#attempts(id, template, args);
    if (this.#run.cacheWrite && output !== undefined)
      await this.#stages.cache.set(key, output, template.name);
    return output;
  }

  /** Resolves the task's secrets once per run; a missing one fails the action before it starts. */
  #secretsOf(template: TaskTemplate): Promise<Record<string, string>> {
    let secrets = this.#secrets.get(template);
    if (secrets === undefined) {
      secrets = resolveSecrets(template.name, template.secrets, this.#run.home);
      this.#secrets.set(template, secrets);
    }
    return secrets;
  }

  /** The admission stage: a lease at once when the scheduler can tell without waiting. */
  #admit(id: string, template: TaskTemplate, signal: AbortSignal): Lease | Promise<Lease> {
    const scheduler = this.#stages.scheduler;
    const request: AdmissionRequest = {
      taskName: template.name,
      action: id,
      resources: template.resources,
      maxQueuedTimeMs: template.timeout.maxQueuedTimeMs,
      signal,
      clock: this.#run.clock,
      pinCpus: this.#run.pinCpus === true,
    };
    return scheduler.admitNow?.(request) ?? scheduler.admit(request);
  }

  /** The attempt stage: admission, then dispatch to the executor, retried per the task's policy. */
  async #attempts(id: string, template: TaskTemplate, args: readonly unknown[]): Promise<unknown> {
    const run = this.#run;
    const secrets = template.secrets.length === 0 ? undefined : await this.#secretsOf(template);
    const executor = this.#stages.executorFor(template);
    const version = template.cache.isEnabled() ? cacheVersion(template) : "";
    // Made only for the attempts that are assigned devices or report a lane.
    let devices: Map<number, readonly string[]> | undefined;
    let lanes: Map<number, string> | undefined;
    return runAttempts(
      {
        taskName: template.name,
        retries: template.retries,
        timeout: template.timeout,
        clock: run.clock,
        run: run.cancel,
      },
      async (attempt, signal, admitted) => {
        const lease = executor.remote ? noLease : await this.#admit(id, template, signal);
        admitted();
        if (lease.devices.length > 0) {
          devices ??= new Map();
          devices.set(
            attempt,
            lease.devices.map((d) => `${d.kind}${d.index}${d.partition ? `/${d.partition}` : ""}`),
          );
        }
        this.#holding.count++;
        try {
          return await executor.execute({
            template,
            args,
            context: {
              action: { name: id, runName: run.name },
              taskName: template.name,
              attemptNumber: attempt,
              mode: run.mode,
              version,
              group: undefined,
              outputPath: `${run.runBaseDir}/${id}`,
              rawDataPath: run.rawDataPath,
              runBaseDir: run.runBaseDir,
              customContext: run.customContext,
              devices: lease.devices,
              cpus: lease.cpus,
            },
            traces: this.#traces.get(id) ?? noTraces,
            channel: lendWhileWaiting(this, lease),
            signal,
            env: attemptEnv(template.envVars, secrets, lease.env),
            logs: run.logs,
            placed: (lane) => {
              lanes ??= new Map();
              lanes.set(attempt, lane);
            },
          });
        } finally {
          lease.release();
          if (--this.#holding.count === 0)
            for (const wake of this.#holding.waiters.splice(0)) wake();
        }
      },
      {
        attemptStarted: (attempt) =>
          run.emit({ type: "attempt-started", action: id, attempt, at: run.clock.now() }),
        attemptFinished: (attempt, error: FlyteError | undefined) => {
          const event: Mutable<AttemptFinished> = {
            type: "attempt-finished",
            action: id,
            attempt,
            at: run.clock.now(),
          };
          if (error !== undefined) event.error = errorToData(error);
          const assigned = devices?.get(attempt);
          if (assigned !== undefined) {
            devices?.delete(attempt);
            event.devices = assigned;
          }
          const lane = lanes?.get(attempt);
          if (lane !== undefined) {
            lanes?.delete(attempt);
            event.lane = lane;
          }
          run.emit(event);
        },
      },
    );
  }
}
