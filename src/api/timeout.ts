/**
 * How long a task may wait in the queue, how long one attempt may run, and how long the whole
 * action may take: {@link Timeout}.
 * @module
 */
import { TaskTimeoutError } from "../errors.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";
import {
  type CancelTimer,
  type Clock,
  type Duration,
  durationToMs,
  formatMs,
} from "../internal/time.js";

/** Options of {@link Timeout}. A number is seconds; `0` or leaving a field out means no limit. */
export interface TimeoutOptions {
  /**
   * The longest one attempt may run. The clock starts when the attempt starts running (after it is
   * admitted) and restarts for each retry. An attempt past it is stopped and fails with
   * `TaskTimeoutError`, which is retried like any failure.
   * @default no limit
   */
  maxRuntime?: Duration;
  /**
   * The longest one attempt may wait for admission (CPU, memory, devices, a worker). The clock
   * starts when the attempt is submitted (for a retry, when its backoff ends) and stops when it is
   * admitted. An attempt past it fails with `TaskTimeoutError`.
   * @default no limit
   */
  maxQueuedTime?: Duration;
  /**
   * The longest the whole action may take: every attempt, the waits for admission and the
   * backoffs between retries included. The clock starts when the action's first attempt is
   * submitted (after a cache miss). When it passes, the running attempt is stopped and the action
   * fails with `TaskTimeoutError` at once, whatever retries are left (upstream's `deadline`).
   * @default no limit
   */
  deadline?: Duration;
}

/**
 * Anything a task's `timeout` option accepts: a duration (= `maxRuntime`), a {@link Timeout}, or
 * its options. Upstream's `TimeoutType`.
 */
export type TimeoutType = Duration | Timeout | TimeoutOptions;

/** Anything a task's `timeout` option accepts; the same as {@link TimeoutType}. */
export type TimeoutRequest = TimeoutType;

function optionalMs(problems: Problems, path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const ms = problems.nested(path, () => durationToMs(value));
  return ms === 0 ? undefined : ms;
}

/**
 * Time limits of a task: `maxRuntime` and `maxQueuedTime` per attempt, `deadline` for the whole
 * action.
 *
 * @example
 * ```ts
 * env.task({ timeout: 60 }, fn);   // each attempt may run for 60 s
 * env.task({ timeout: new flyte.Timeout({ maxRuntime: "5m", maxQueuedTime: "10m" }) }, fn);
 * env.task({ retries: 5, timeout: new flyte.Timeout({ maxRuntime: "5m", deadline: "20m" }) }, fn);
 * ```
 */
export class Timeout {
  /** The longest one attempt may run, in milliseconds; `undefined` for no limit. */
  readonly maxRuntimeMs: number | undefined;
  /** The longest one attempt may wait for admission, in milliseconds; `undefined` for no limit. */
  readonly maxQueuedTimeMs: number | undefined;
  /** The longest the whole action may take, in milliseconds; `undefined` for no limit. */
  readonly deadlineMs: number | undefined;

  /** @throws InvalidConfigError listing every invalid option, each with its path. */
  constructor(options: TimeoutOptions = {}) {
    const problems = new Problems("Timeout");
    checkKeys(problems, options, ["maxRuntime", "maxQueuedTime", "deadline"]);
    this.maxRuntimeMs = optionalMs(problems, "maxRuntime", options?.maxRuntime);
    this.maxQueuedTimeMs = optionalMs(problems, "maxQueuedTime", options?.maxQueuedTime);
    this.deadlineMs = optionalMs(problems, "deadline", options?.deadline);
    problems.throwIfAny();
    Object.freeze(this);
  }

  /**
   * Returns `request` if it already is a Timeout; a duration means `{ maxRuntime: duration }`.
   * @throws InvalidConfigError when `request` is none of these
   * @example
   * ```ts
   * Timeout.from("90s").maxRuntimeMs; // 90000
   * ```
   */
  static from(request: TimeoutRequest): Timeout {
    if (request instanceof Timeout) return request;
    if (typeof request === "number" || typeof request === "string") {
      return new Timeout({ maxRuntime: request });
    }
    if (typeof request !== "object" || request === null) {
      const problems = new Problems("Timeout");
      problems.add(
        "",
        `Expected a timeout to be a duration (seconds, or a string such as "5m"), a Timeout, or { maxRuntime, maxQueuedTime, deadline }, got ${describe(request)}.`,
      );
      problems.throwIfAny();
    }
    return new Timeout(request);
  }
}

/**
 * Starts the clock of an action's `deadline` (see {@link TimeoutOptions.deadline}): `onPassed` is
 * called once with the `TaskTimeoutError` the action fails with when it passes. Returns the
 * function that stops the clock, or `undefined` when the timeout has no deadline.
 *
 * @example
 * ```ts
 * const stop = startDeadline(timeout, clock, "etl.load", (error) => scope.abort(error));
 * ```
 */
export function startDeadline(
  timeout: Timeout,
  clock: Clock,
  taskName: string,
  onPassed: (error: TaskTimeoutError) => void,
): CancelTimer | undefined {
  const deadlineMs = timeout.deadlineMs;
  if (deadlineMs === undefined) return undefined;
  return clock.setTimer(deadlineMs, () =>
    onPassed(
      new TaskTimeoutError(
        `Task \`${taskName}\` passed its deadline of ${formatMs(deadlineMs)} (every attempt, the waits for admission and the backoffs between retries count) and was stopped without further retries. ` +
          "Raise `Timeout({ deadline })`, or lower `retries` or `maxRuntime` so the attempts fit in it.",
      ),
    ),
  );
}
