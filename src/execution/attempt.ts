/**
 * The attempt loop: runs an action's body until it succeeds, its retries run out, or it fails
 * with an error that retrying cannot change. Each attempt goes through named phases — waiting for
 * admission, admitted and waiting for a worker slot (a worker's start-up included), placed on a
 * worker, running, finished — and the time limits follow them: `maxQueuedTime` bounds everything
 * before the body starts, `maxRuntime` counts from the body's start. Backoff between attempts is
 * a phase of its own. Timers run on the injected clock.
 * @module
 */
import type { RetryStrategy } from "../api/retry.js";
import { startDeadline, type Timeout } from "../api/timeout.js";
import {
  type FlyteError,
  isRetryable,
  RunCancelledError,
  TaskTimeoutError,
  toTaskError,
} from "../errors.js";
import { type CancelTimer, type Clock, formatMs } from "../internal/time.js";
import type { AttemptPhase } from "../record/events.js";
import { AttemptAbort } from "./attempt-abort.js";
import { CancelScope } from "./cancel-scope.js";

/** What the loop needs to know of the action. */
export interface AttemptPolicy {
  readonly taskName: string;
  readonly retries: RetryStrategy;
  readonly timeout: Timeout;
  readonly clock: Clock;
  /** The run's cancellation. */
  readonly run: CancelScope;
  /**
   * Whether the executor bounds the wait before the body itself (a cluster's queue, whose job it
   * cancels with its own message); then the loop does not. @default false
   */
  readonly executorOwnsQueueTime?: boolean;
}

/** Where an attempt was placed: the worker (lane) and, when known, its thread id or pid. */
export interface Placement {
  /** The lane: `"<env>/thread-<threadId>"`, `"<env>/process-<pid>"`, `"inline"`, `"slurm:<node>"`. */
  readonly lane: string;
  readonly pid?: number;
  readonly threadId?: number;
}

/** What an attempt holds once admitted: device ids and pinned cores, when any. */
export interface Admission {
  readonly devices?: readonly string[];
  readonly cpus?: readonly number[];
}

/**
 * The facts of a phase: the admission's, the placement's, the backoff's delay, or the limit a
 * `limited` attempt waits for.
 */
export type PhaseDetail = Admission &
  Partial<Placement> & { readonly delayMs?: number; readonly reason?: string };

/** Called as attempts move through their phases (for the run record). */
export interface AttemptObserver {
  /** The attempt starts waiting for admission. */
  attemptStarted(attempt: number): void;
  attemptPhase(attempt: number, phase: AttemptPhase, detail: PhaseDetail): void;
  /** The attempt ended at `at` (the clock's time the body was seen to end), with `error` if it failed. */
  attemptFinished(attempt: number, error: FlyteError | undefined, at: number): void;
}

/** What an attempt's body reports as it goes: each at most once, in this order. */
export interface AttemptHooks {
  /**
   * Before admission: a limit holds the attempt (`reason` names it: a rate limit, a concurrency
   * limit), or `undefined` once only resources are left to wait for.
   */
  waiting(reason: string | undefined): void;
  /** The scheduler admitted the attempt; it now waits for a worker slot. */
  admitted(admission: Admission): void;
  /** A worker took the attempt. */
  placed(placement: Placement): void;
  /** The executor took the attempt back from its worker, before its body started: placed again later. */
  unplaced(): void;
  /** The body started on its worker: `maxRuntime` counts from here. */
  started(): void;
  /**
   * The body ended (its worker answered): the attempt's end time, taken before the worker is
   * handed the next attempt. Optional: the attempt's settling marks the end otherwise.
   */
  ended(): void;
  /**
   * Runs `release` once the attempt is recorded as finished (at once if it already is): what the
   * body held (its lease) is given back only after the record says it stopped running, so the
   * next holder never shows as running beside it.
   */
  afterFinished(release: () => void): void;
}

/** One attempt's body. It stops when `abort` is aborted, and reports its phases through `hooks`. */
export type AttemptBody<T> = (
  attempt: number,
  abort: AttemptAbort,
  hooks: AttemptHooks,
) => Promise<T>;

/** Runs `body` once per attempt until it succeeds or must stop; rejects with the last error. */
export async function runAttempts<T>(
  policy: AttemptPolicy,
  body: AttemptBody<T>,
  observer: AttemptObserver,
): Promise<T> {
  const deadline = deadlineScope(policy);
  if (deadline !== undefined) {
    return runAttempts({ ...policy, run: deadline.scope }, body, observer).finally(deadline.stop);
  }
  for (let attempt = 0; ; attempt++) {
    if (policy.run.signal.aborted) throw cancelled(policy);
    observer.attemptStarted(attempt);
    try {
      return await runOneAttempt(policy, attempt, body, observer);
    } catch (thrown) {
      const error = toTaskError(thrown);
      if (!isRetryable(error) || attempt >= policy.retries.count) throw error;
      const delayMs = policy.retries.delayMs(attempt);
      if (delayMs > 0) {
        observer.attemptPhase(attempt, "backoff", { delayMs });
        await backoff(policy, delayMs);
      }
    }
  }
}

/** Waits out a retry's backoff; rejects at once if the run is cancelled meanwhile. */
function backoff(policy: AttemptPolicy, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelTimer = policy.clock.setTimer(delayMs, () => {
      stopListening();
      resolve();
    });
    const stopListening = policy.run.onCancel(() => {
      cancelTimer();
      reject(cancelled(policy));
    });
  });
}

// Scopes made by deadlineScope, so that the attempts inside one do not start another.
const deadlineScopes = new WeakSet<CancelScope>();

/**
 * The scope the attempts of an action with `Timeout({ deadline })` run in: cancelled with the
 * deadline's TaskTimeoutError when it passes (stopping the running attempt, the admission wait or
 * the backoff), and with the run's reason when the run is cancelled.
 */
function deadlineScope(
  policy: AttemptPolicy,
): { scope: CancelScope; stop: () => void } | undefined {
  if (policy.timeout.deadlineMs === undefined || deadlineScopes.has(policy.run)) return undefined;
  const controller = new AbortController();
  const scope = new CancelScope(controller.signal);
  deadlineScopes.add(scope);
  const stopListening = policy.run.onCancel(() => controller.abort(policy.run.signal.reason));
  const stopClock = startDeadline(policy.timeout, policy.clock, policy.taskName, (error) =>
    controller.abort(error),
  );
  return {
    scope,
    stop: () => {
      stopListening();
      stopClock?.();
    },
  };
}

function cancelled(policy: AttemptPolicy): FlyteError {
  const reason = policy.run.signal.reason;
  // An action's deadline cancels its attempts with the deadline's own error.
  if (reason instanceof TaskTimeoutError) return reason;
  return reason instanceof RunCancelledError
    ? reason
    : new RunCancelledError(`The run was cancelled before task \`${policy.taskName}\` finished.`, {
        cause: reason,
      });
}

/** What an attempt was waiting for, by the last phase it reached before running. */
const waitingFor: Record<"started" | "admitted" | "placed", string> = {
  started: "waiting for admission (the CPUs, memory or devices it asks for)",
  admitted: "waiting for a free worker (or a worker's start-up)",
  placed:
    "on its worker, importing the task's module or sent ahead behind the attempt running there",
};

function runOneAttempt<T>(
  policy: AttemptPolicy,
  attempt: number,
  body: AttemptBody<T>,
  observer: AttemptObserver,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const one = new OneAttempt(policy, attempt, observer, reject);
    let running: Promise<T>;
    try {
      running = body(attempt, one.abort, one);
    } catch (error) {
      if (one.settle(error)) reject(toTaskError(error));
      return;
    }
    running.then(
      (value) => {
        if (one.settle()) resolve(value);
      },
      (error) => {
        if (one.settle(error ?? new Error(String(error)))) reject(toTaskError(error));
      },
    );
  });
}

/**
 * One attempt in flight: its phase, its time limits and the hooks its body reports through. A
 * class, not a closure per hook: a fan-out holds one of these per pending call.
 */
class OneAttempt implements AttemptHooks {
  readonly abort = new AttemptAbort();
  readonly #policy: AttemptPolicy;
  readonly #attempt: number;
  readonly #observer: AttemptObserver;
  readonly #reject: (error: FlyteError) => void;
  #settled = false;
  #phase: "started" | "admitted" | "placed" | "running" = "started";
  #cancelTimer: CancelTimer | undefined;
  #endedAt: number | undefined;
  /** The limit a waiting attempt is held by, when one holds it. */
  #limitedBy: string | undefined;
  #releases: (() => void)[] | undefined;
  #stopListening: () => void = noop;

  constructor(
    policy: AttemptPolicy,
    attempt: number,
    observer: AttemptObserver,
    reject: (error: FlyteError) => void,
  ) {
    this.#policy = policy;
    this.#attempt = attempt;
    this.#observer = observer;
    this.#reject = reject;
    this.#stopListening = policy.run.onCancel(() => this.#fail(cancelled(policy)));
    const queuedMs = policy.timeout.maxQueuedTimeMs;
    if (queuedMs !== undefined && !policy.executorOwnsQueueTime) {
      this.#cancelTimer = policy.clock.setTimer(queuedMs, () => this.#queuedTooLong(queuedMs));
    }
  }

  /** Marks the attempt settled and records it finished; false when it already was. */
  settle(error?: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#cancelTimer?.();
    this.#stopListening();
    this.#observer.attemptFinished(
      this.#attempt,
      error === undefined ? undefined : toTaskError(error),
      this.#endedAt ?? this.#policy.clock.now(),
    );
    const releases = this.#releases;
    this.#releases = undefined;
    if (releases !== undefined) for (const release of releases) release();
    return true;
  }

  #fail(error: Error): void {
    this.abort.abort(error);
    if (this.settle(error)) this.#reject(toTaskError(error));
  }

  #queuedTooLong(queuedMs: number): void {
    const phase = this.#phase;
    if (phase === "running") return;
    const { taskName } = this.#policy;
    this.#fail(
      new TaskTimeoutError(
        `Task \`${taskName}\` attempt ${this.#attempt} waited past its maxQueuedTime of ${formatMs(queuedMs)} before its body started; ` +
          `it was still ${(phase === "started" ? this.#limitedBy : undefined) ?? waitingFor[phase]}. Raise \`maxQueuedTime\` in the task's Timeout, or run fewer tasks at once.`,
      ),
    );
  }

  waiting(reason: string | undefined): void {
    if (this.#settled || this.#phase !== "started") return;
    this.#limitedBy = reason;
    if (reason !== undefined) this.#observer.attemptPhase(this.#attempt, "limited", { reason });
  }

  admitted(admission: Admission): void {
    if (this.#settled || this.#phase !== "started") return;
    this.#phase = "admitted";
    this.#observer.attemptPhase(this.#attempt, "admitted", admission);
  }

  placed(placement: Placement): void {
    if (this.#settled || this.#phase === "placed" || this.#phase === "running") return;
    this.#phase = "placed";
    this.#observer.attemptPhase(this.#attempt, "placed", placement);
  }

  unplaced(): void {
    if (!this.#settled && this.#phase === "placed") this.#phase = "admitted";
  }

  ended(): void {
    if (!this.#settled) this.#endedAt ??= this.#policy.clock.now();
  }

  afterFinished(release: () => void): void {
    if (this.#settled) {
      release();
      return;
    }
    this.#releases ??= [];
    this.#releases.push(release);
  }

  started(): void {
    if (this.#settled || this.#phase === "running") return;
    this.#phase = "running";
    this.#observer.attemptPhase(this.#attempt, "running", {});
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const { timeout, clock, taskName } = this.#policy;
    const maxRuntimeMs = timeout.maxRuntimeMs;
    if (maxRuntimeMs === undefined) return;
    this.#cancelTimer = clock.setTimer(maxRuntimeMs, () =>
      this.#fail(
        new TaskTimeoutError(
          `Task \`${taskName}\` attempt ${this.#attempt} ran past its maxRuntime of ${formatMs(maxRuntimeMs)} and was stopped. ` +
            "Raise `timeout` on the task, or make the body watch `flyte.ctx().signal`.",
        ),
      ),
    );
  }
}

function noop(): void {}
