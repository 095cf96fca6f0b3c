/**
 * How long a task may wait in the queue and how long one attempt may run: {@link Timeout}.
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { type Duration, durationToMs } from "../internal/time.js";

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
}

/** Anything a task's `timeout` option accepts: a duration (= `maxRuntime`), a {@link Timeout}, or its options. */
export type TimeoutRequest = Duration | Timeout | TimeoutOptions;

function optionalMs(problems: Problems, path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const ms = problems.nested(path, () => durationToMs(value));
  return ms === 0 ? undefined : ms;
}

/**
 * Time limits of a task, enforced per attempt.
 *
 * @example
 * ```ts
 * env.task({ timeout: 60 }, fn);   // each attempt may run for 60 s
 * env.task({ timeout: new flyte.Timeout({ maxRuntime: "5m", maxQueuedTime: "10m" }) }, fn);
 * ```
 */
export class Timeout {
  /** The longest one attempt may run, in milliseconds; `undefined` for no limit. */
  readonly maxRuntimeMs: number | undefined;
  /** The longest one attempt may wait for admission, in milliseconds; `undefined` for no limit. */
  readonly maxQueuedTimeMs: number | undefined;

  /** @throws InvalidConfigError listing every invalid option, each with its path. */
  constructor(options: TimeoutOptions = {}) {
    const problems = new Problems("Timeout");
    checkKeys(problems, options, ["maxRuntime", "maxQueuedTime"]);
    this.maxRuntimeMs = optionalMs(problems, "maxRuntime", options?.maxRuntime);
    this.maxQueuedTimeMs = optionalMs(problems, "maxQueuedTime", options?.maxQueuedTime);
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
        `Expected a timeout to be a duration (seconds, or a string such as "5m"), a Timeout, or { maxRuntime, maxQueuedTime }, got ${describe(request)}.`,
      );
      problems.throwIfAny();
    }
    return new Timeout(request);
  }
}
