/**
 * The attempt loop: runs an action's body until it succeeds, its retries run out, or it fails
 * with an error that retrying cannot change. Each attempt gets its own deadline (`maxRuntime`) and
 * abort signal; backoff waits on the injected clock.
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
import { type Clock, formatMs } from "../internal/time.js";
import { CancelScope } from "./cancel-scope.js";

/** What the loop needs to know of the action. */
export interface AttemptPolicy {
  readonly taskName: string;
  readonly retries: RetryStrategy;
  readonly timeout: Timeout;
  readonly clock: Clock;
  /** The run's cancellation. */
  readonly run: CancelScope;
}

/** Called as attempts start and end (for the run record). */
export interface AttemptObserver {
  attemptStarted(attempt: number): void;
  attemptFinished(attempt: number, error: FlyteError | undefined): void;
}

/**
 * One attempt's body. It calls `admitted()` once the scheduler has admitted it: `maxRuntime` is
 * measured from then, so time spent queued for a GPU counts against `maxQueuedTime` only.
 */
export type AttemptBody<T> = (
  attempt: number,
  signal: AbortSignal,
  admitted: () => void,
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
      const value = await runOneAttempt(policy, attempt, body);
      observer.attemptFinished(attempt, undefined);
      return value;
    } catch (thrown) {
      const error = toTaskError(thrown);
      observer.attemptFinished(attempt, error);
      if (!isRetryable(error) || attempt >= policy.retries.count) throw error;
      const delayMs = policy.retries.delayMs(attempt);
      if (delayMs > 0) await backoff(policy, delayMs);
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

function runOneAttempt<T>(
  policy: AttemptPolicy,
  attempt: number,
  body: AttemptBody<T>,
): Promise<T> {
  const controller = new AbortController();
  const { timeout, clock } = policy;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let cancelTimer: (() => void) | undefined;
    /** Marks the attempt settled; false when it already was. */
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      cancelTimer?.();
      stopListening();
      return true;
    };
    const stopListening = policy.run.onCancel(() => {
      const error = cancelled(policy);
      controller.abort(error);
      if (settle()) reject(error);
    });
    const maxRuntimeMs = timeout.maxRuntimeMs;
    const admitted = () => {
      if (maxRuntimeMs === undefined || cancelTimer !== undefined || settled) return;
      cancelTimer = clock.setTimer(maxRuntimeMs, () => {
        const error = new TaskTimeoutError(
          `Task \`${policy.taskName}\` attempt ${attempt} ran past its maxRuntime of ${formatMs(maxRuntimeMs)} and was stopped. ` +
            "Raise `timeout` on the task, or make the body watch `flyte.ctx().signal`.",
        );
        controller.abort(error);
        if (settle()) reject(error);
      });
    };
    let running: Promise<T>;
    try {
      running = body(attempt, controller.signal, admitted);
    } catch (error) {
      if (settle()) reject(error);
      return;
    }
    running.then(
      (value) => {
        if (settle()) resolve(value);
      },
      (error) => {
        if (settle()) reject(error);
      },
    );
  });
}
