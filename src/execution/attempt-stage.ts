/**
 * The attempt stage of an action: admission against the scheduler, dispatch to the executor,
 * retries per the task's policy — each attempt's phases emitted as run events. The lease an
 * attempt holds is given back only after its end is recorded.
 * @module
 */
import { join } from "node:path";
import type { TaskTemplate } from "../api/task.js";
import { cacheVersion } from "../cache/cache-key.js";
import { checkpointSize } from "../context/checkpoint.js";
import {
  type ControllerChannel,
  type MapItem,
  type RunMode,
  type TaskContextData,
  type TraceRecord,
  taskContext,
} from "../context/context.js";
import { errorToData, type FlyteError } from "../errors.js";
import type { Clock } from "../internal/time.js";
import type { AttemptPhase, RunEvent } from "../record/events.js";
import type { LogSink } from "../record/logs.js";
import {
  type AdmissionRequest,
  type Lease,
  lendWhileWaiting,
  noLease,
  type Scheduler,
} from "../scheduler/scheduler.js";
import {
  type Admission,
  type AttemptHooks,
  type AttemptObserver,
  type PhaseDetail,
  runAttempts,
} from "./attempt.js";
import type { AttemptAbort } from "./attempt-abort.js";
import type { CancelScope } from "./cancel-scope.js";
import type { ExecuteRequest, Executor, ExecutorFactory } from "./executor.js";
import { type SecretFiles, writeSecretFiles } from "./secret-files.js";
import { resolveSecrets } from "./secrets.js";

/** What every attempt of a run shares. */
export interface AttemptRun {
  readonly name: string;
  readonly mode: RunMode;
  readonly clock: Clock;
  /** The run's cancellation. */
  readonly cancel: CancelScope;
  readonly runBaseDir: string;
  readonly rawDataPath: string;
  /** The `.flyte` folder (secrets.env). */
  readonly home: string;
  readonly customContext: Readonly<Record<string, string>>;
  /** Pin each attempt to whole cores of its own (`withRunContext({ pinCpus: true })`). */
  readonly pinCpus?: boolean;
  /** The run resumes a stored one (its actions may have checkpoints already). */
  readonly resumed?: boolean;
  readonly emit: (event: RunEvent) => void;
  /** Where task output is captured (handed to executors). */
  readonly logs: LogSink;
}

const noTraces: ReadonlyMap<string, TraceRecord> = new Map();

/** What the controller tells the attempt stage of an action besides its task and inputs. */
export interface ActionFacts {
  readonly traces: () => ReadonlyMap<string, TraceRecord> | undefined;
  readonly customContext?: Readonly<Record<string, string>> | undefined;
  readonly mapItem?: MapItem | undefined;
}

/** One action's call of the attempt stage. */
interface Call {
  readonly id: string;
  readonly template: TaskTemplate;
  readonly args: readonly unknown[];
  readonly action: ActionFacts;
  readonly executor: Executor;
  /** The task's resolved secrets; `undefined` when it has none (or runs remotely). */
  readonly secrets: Readonly<Record<string, string>> | undefined;
}

/** One attempt, admitted. */
interface AdmittedAttempt {
  readonly attempt: number;
  readonly abort: AttemptAbort;
  readonly hooks: AttemptHooks;
  readonly lease: Lease;
  readonly version: string;
}
const noAdmission: Admission = Object.freeze({});

/** Runs the attempts of a run's actions. */
export class AttemptStage {
  readonly #run: AttemptRun;
  readonly #scheduler: Scheduler;
  readonly #executorFor: ExecutorFactory;
  readonly #channel: ControllerChannel;
  /** Attempts holding a lease, and who waits for them all to give it back. */
  readonly #holding = { count: 0, waiters: [] as (() => void)[] };
  readonly #secrets = new Map<TaskTemplate, Promise<Record<string, string>>>();
  /** Attempts a local pool holds queued for a worker; who hears when they fall to a level. */
  readonly #unplaced = { count: 0, level: -1, fell: () => {} };

  /** @param channel - where bodies' own task calls go (the controller). */
  constructor(
    run: AttemptRun,
    scheduler: Scheduler,
    executorFor: ExecutorFactory,
    channel: ControllerChannel,
  ) {
    this.#run = run;
    this.#scheduler = scheduler;
    this.#executorFor = executorFor;
    this.#channel = channel;
  }

  /** Attempts handed to a local pool that has not placed them on a worker yet. */
  get unplaced(): number {
    return this.#unplaced.count;
  }

  /** Calls `fell` each time the number of {@link unplaced} attempts falls to `level`. */
  onUnplacedFallTo(level: number, fell: () => void): void {
    this.#unplaced.level = level;
    this.#unplaced.fell = fell;
  }

  /**
   * Runs action `id`'s attempts; resolves with the output of the one that succeeds. `traces`
   * gives the traced calls recorded so far (by the resumed run and earlier attempts);
   * `customContext` is the action's own, when it was called inside `flyte.customContext`.
   */
  run(
    id: string,
    template: TaskTemplate,
    args: readonly unknown[],
    action: ActionFacts,
  ): Promise<unknown> {
    const executor = this.#executorFor(template);
    // An offloaded action's Job reads its secrets in the cluster (secretKeyRef), not from here.
    if (template.secrets.length === 0 || executor.remote) {
      return this.#attempts({ id, template, args, action, executor, secrets: undefined });
    }
    return this.#secretsOf(template).then((secrets) =>
      this.#attempts({ id, template, args, action, executor, secrets }),
    );
  }

  #attempts(call: Call): Promise<unknown> {
    const { id, template, executor } = call;
    const run = this.#run;
    const version = template.cache.isEnabled() ? cacheVersion(template) : "";
    const events = new AttemptEvents(id, run);
    return runAttempts(
      {
        taskName: template.name,
        retries: template.retries,
        timeout: template.timeout,
        clock: run.clock,
        run: run.cancel,
        executorOwnsQueueTime: executor.remote === true && executor.reportsPhases === true,
      },
      (attempt, abort, hooks) => {
        const dispatch = (lease: Lease) => {
          // Looked at before the body is dispatched, so a body's own first save is not taken for it.
          events.startsFrom = this.#startsFrom(id, attempt);
          return this.#dispatch(call, { attempt, abort, hooks, lease, version });
        };
        if (executor.remote) return dispatch(noLease);
        // Not through an await: an attempt admitted at once goes to its executor in this turn.
        const lease = this.#admit(id, template, abort, hooks);
        return lease instanceof Promise ? lease.then(dispatch) : dispatch(lease);
      },
      events,
    );
  }

  /**
   * Hands one admitted attempt to its executor; the lease is given back once the attempt is
   * recorded as finished.
   */
  #dispatch(call: Call, attempt: AdmittedAttempt): Promise<unknown> {
    const { hooks, lease } = attempt;
    hooks.admitted(admissionOf(lease));
    this.#holding.count++;
    const release = () =>
      hooks.afterFinished(() => {
        lease.release();
        if (--this.#holding.count === 0) for (const wake of this.#holding.waiters.splice(0)) wake();
      });
    const mounts =
      call.secrets !== undefined && call.template.secrets.some((s) => s.mount !== undefined);
    if (mounts) return this.#withSecretFiles(call, attempt, release);
    let running: Promise<unknown>;
    try {
      running = this.#execute(call, attempt, undefined);
    } catch (error) {
      release();
      return Promise.reject(error);
    }
    return running.then(
      (output) => {
        release();
        return output;
      },
      (error: unknown) => {
        release();
        throw error;
      },
    );
  }

  /** {@link #dispatch} for a task that mounts secrets: their files exist while the body runs. */
  async #withSecretFiles(
    call: Call,
    attempt: AdmittedAttempt,
    release: () => void,
  ): Promise<unknown> {
    let secretFiles: SecretFiles | undefined;
    try {
      secretFiles = await writeSecretFiles(call.template.secrets, call.secrets ?? {});
      return await this.#execute(call, attempt, secretFiles?.dir);
    } finally {
      release();
      await secretFiles?.remove();
    }
  }

  #execute(
    call: Call,
    admitted: AdmittedAttempt,
    secretsDir: string | undefined,
  ): Promise<unknown> {
    const { id, template, executor, action } = call;
    const { attempt, abort, hooks, lease } = admitted;
    // A rate-limited start counts when the body starts, not when it was admitted.
    const started =
      lease.started === undefined
        ? () => hooks.started()
        : () => {
            lease.started?.();
            hooks.started();
          };
    // Counted from here until the pool places it or the attempt ends unplaced.
    let queued = executor.reportsPhases === true && executor.remote !== true;
    const unplaced = this.#unplaced;
    if (queued) unplaced.count++;
    const left = () => {
      if (!queued) return;
      queued = false;
      if (--unplaced.count === unplaced.level) unplaced.fell();
    };
    const request: ExecuteRequest = {
      template,
      args: call.args,
      context: this.#context(id, template, attempt, admitted.version, lease, {
        customContext: action.customContext,
        secretsDir,
      }),
      traces: action.traces() ?? noTraces,
      channel: lendWhileWaiting(this.#channel, lease),
      abort,
      env: attemptEnv(template.envVars, call.secrets, lease.env),
      logs: this.#run.logs,
      placed: (lane, where) => {
        left();
        hooks.placed({ lane, ...where });
      },
      unplaced: () => hooks.unplaced(),
      started,
      ended: () => {
        left();
        hooks.ended();
      },
      mapItem: action.mapItem,
    };
    const running = executor.execute(request);
    // Still queued: it leaves the count when placed, or else when it settles (an executor may
    // refuse it without placing or ending it: a pool shut down, a payload that cannot cross).
    if (queued) running.then(left, left);
    if (!executor.reportsPhases) {
      hooks.placed({ lane: template.environment.name });
      started();
    }
    return running;
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

  /**
   * The checkpoint an attempt starts from, for the record. Only a retry or a resumed run can
   * find one (a new run's folder is fresh), so a first attempt costs no `stat`.
   */
  #startsFrom(id: string, attempt: number): { checkpointBytes?: number } {
    if (attempt === 0 && this.#run.resumed !== true) return {};
    const bytes = checkpointSize(join(this.#run.runBaseDir, id));
    return bytes === undefined ? {} : { checkpointBytes: bytes };
  }

  #context(
    id: string,
    template: TaskTemplate,
    attempt: number,
    version: string,
    lease: Lease,
    own: {
      readonly customContext: Readonly<Record<string, string>> | undefined;
      readonly secretsDir: string | undefined;
    },
  ): TaskContextData {
    const run = this.#run;
    return taskContext(
      {
        runName: run.name,
        mode: run.mode,
        rawDataPath: run.rawDataPath,
        runBaseDir: run.runBaseDir,
        customContext: own.customContext ?? run.customContext,
      },
      {
        action: id,
        taskName: template.name,
        attemptNumber: attempt,
        version,
        group: undefined,
        devices: lease.devices,
        cpus: lease.cpus,
        secretsDir: own.secretsDir,
      },
    );
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

  /** Admission: a lease at once when the scheduler can tell without waiting. */
  #admit(
    id: string,
    template: TaskTemplate,
    abort: AttemptAbort,
    hooks: AttemptHooks,
  ): Lease | Promise<Lease> {
    const request = new AttemptAdmission(id, template, abort, hooks, this.#run);
    return this.#scheduler.admitNow?.(request) ?? this.#scheduler.admit(request);
  }
}

/** Records one action's attempts as run events. */
class AttemptEvents implements AttemptObserver {
  readonly #id: string;
  readonly #run: AttemptRun;
  /** The checkpoint the current attempt starts from, recorded with its `running` phase. */
  startsFrom: { checkpointBytes?: number } = {};

  constructor(id: string, run: AttemptRun) {
    this.#id = id;
    this.#run = run;
  }

  attemptStarted(attempt: number): void {
    const run = this.#run;
    run.emit({ type: "attempt-started", action: this.#id, attempt, at: run.clock.now() });
  }

  attemptPhase(attempt: number, phase: AttemptPhase, detail: PhaseDetail): void {
    const run = this.#run;
    run.emit({
      type: "attempt-phase",
      action: this.#id,
      attempt,
      at: run.clock.now(),
      phase,
      ...detail,
      ...(phase === "running" ? this.startsFrom : {}),
    });
  }

  attemptFinished(attempt: number, error: FlyteError | undefined, at: number): void {
    const action = this.#id;
    this.#run.emit(
      error === undefined
        ? { type: "attempt-finished", action, attempt, at }
        : { type: "attempt-finished", action, attempt, at, error: errorToData(error) },
    );
  }
}

/**
 * What one attempt asks the scheduler for. A class, so that its `signal` is a getter on the
 * prototype (made only if the attempt has to wait) and the request stays a small, fast object.
 */
class AttemptAdmission implements AdmissionRequest {
  readonly taskName: string;
  readonly action: string;
  readonly resources: TaskTemplate["resources"];
  /** The attempt loop owns maxQueuedTime: it bounds admission and the wait for a worker alike. */
  readonly maxQueuedTimeMs = undefined;
  readonly clock: AttemptRun["clock"];
  readonly pinCpus: boolean;
  readonly limits: TaskTemplate["limits"];
  readonly #hooks: AttemptHooks;
  readonly #abort: AttemptAbort;

  constructor(
    id: string,
    template: TaskTemplate,
    abort: AttemptAbort,
    hooks: AttemptHooks,
    run: AttemptRun,
  ) {
    this.taskName = template.name;
    this.action = id;
    this.resources = template.resources;
    this.clock = run.clock;
    this.pinCpus = run.pinCpus === true;
    this.limits = template.limits;
    this.#hooks = hooks;
    this.#abort = abort;
  }

  waiting(reason: string | undefined): void {
    this.#hooks.waiting(reason);
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }
}

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

/** What an attempt's lease holds, as the run record shows it. */
function admissionOf(lease: Lease): Admission {
  if (lease.devices.length === 0 && lease.cpus.length === 0) return noAdmission;
  return {
    ...(lease.devices.length > 0
      ? {
          devices: lease.devices.map(
            (d) =>
              `${d.kind}${d.index}${d.partition ? `/${d.partition}` : ""}${d.share === undefined ? "" : `@${d.share}`}`,
          ),
        }
      : {}),
    ...(lease.cpus.length > 0 ? { cpus: lease.cpus } : {}),
  };
}
