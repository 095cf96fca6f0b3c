/**
 * Limits on how many actions of an environment or task run at once, and how often they start:
 * {@link RateLimit} and `maxConcurrency`, validated at definition time, and {@link TaskLimits},
 * what a task carries to the scheduler (each limit with the scope it is counted in).
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { type Duration, formatMs } from "../internal/time.js";

/** Options of {@link RateLimit}. */
export interface RateLimitOptions {
  /** How many attempts may start in any window of `per`. An integer of 1 or more. */
  max: number;
  /**
   * The window: seconds as a number, or a string with a unit: `"1s"`, `"500ms"`, `"1m"`, `"1h"`.
   * Above 0.
   */
  per: Duration;
}

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * At most `max` attempts start in any window of `per` (a sliding window): for tasks that call a
 * rate-limited API. Attempts over the rate wait, first come first served, shown as waiting for
 * the rate limit; `maxQueuedTime` bounds the wait. The clock is the run's (`withRunContext({
 * clock })`), so tests move it by hand.
 *
 * @example
 * ```ts
 * const llm = new flyte.TaskEnvironment({ name: "llm", rateLimit: { max: 10, per: "1s" } });
 * ```
 */
export class RateLimit {
  /** Attempts per window. */
  readonly max: number;
  /** The window as given. */
  readonly per: Duration;
  /** The window in milliseconds. */
  readonly perMs: number;

  /** @throws InvalidConfigError naming each invalid option (a rate of 0, an unknown unit, …). */
  constructor(options: RateLimitOptions) {
    const problems = new Problems("RateLimit");
    const perMs = checkRateLimit(problems, "", options);
    problems.throwIfAny();
    this.max = options.max;
    this.per = options.per;
    this.perMs = perMs as number;
    Object.freeze(this);
  }

  /** Returns `value` if it already is a RateLimit, else builds one. */
  static from(value: RateLimit | RateLimitOptions): RateLimit {
    return value instanceof RateLimit ? value : new RateLimit(value);
  }

  /** `"10 per 1s"`. */
  toString(): string {
    return `${this.max} per ${formatMs(this.perMs)}`;
  }
}

function at(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Checks rate-limit options at `path`; returns the window in ms, or `undefined` when invalid. */
function checkRateLimit(problems: Problems, path: string, options: unknown): number | undefined {
  if (!checkKeys(problems, options, ["max", "per"], path)) return undefined;
  const { max, per } = options as Record<string, unknown>;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
    problems.add(
      at(path, "max"),
      `Expected \`max\` to be an integer of 1 or more (attempts per window), got ${describe(max)}. ` +
        "A rate of 0 would never start anything: leave `rateLimit` out for no limit.",
    );
  }
  const perMs = windowMs(per);
  if (perMs === undefined) {
    problems.add(
      at(path, "per"),
      `Expected \`per\` to be a window above 0: seconds as a number, or a string such as "1s", "500ms", "1m", "1h", got ${describe(per)}.`,
    );
  }
  return perMs;
}

function windowMs(per: unknown): number | undefined {
  if (typeof per === "number") return Number.isFinite(per) && per > 0 ? per * 1000 : undefined;
  if (typeof per !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(per.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * (unitMs[match[2] as string] as number);
  return ms > 0 ? ms : undefined;
}

/**
 * Reads a `rateLimit` option at `path` into a RateLimit, recording problems there.
 * `undefined` stays `undefined`.
 */
export function readRateLimit(
  problems: Problems,
  path: string,
  value: unknown,
): RateLimit | undefined {
  if (value === undefined) return undefined;
  if (value instanceof RateLimit) return value;
  const before = new Problems("");
  checkRateLimit(before, path, value);
  if (!before.empty) {
    checkRateLimit(problems, path, value);
    return undefined;
  }
  return new RateLimit(value as RateLimitOptions);
}

/** Checks a `maxConcurrency` option at `path`: an integer of 1 or more, or left out. */
export function readMaxConcurrency(
  problems: Problems,
  path: string,
  value: unknown,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    problems.add(
      path,
      `Expected \`${path}\` to be an integer of 1 or more (actions running at once), got ${describe(value)}. Leave it out for no limit.`,
    );
    return undefined;
  }
  return value;
}

/**
 * The limits a task's attempts are admitted under, each with the scope it is counted in:
 * an environment's limit is shared by all its tasks, a task's (set in `env.task` options or
 * `override`) by that task's actions only. Counted across every run in the process.
 */
export interface TaskLimits {
  readonly concurrency?: {
    /** Who shares the count, in words: ``environment `llm` `` or ``task `llm.ask` ``. */
    readonly scope: string;
    readonly max: number;
  };
  readonly rate?: {
    readonly scope: string;
    readonly max: number;
    readonly perMs: number;
  };
}

/** The settings a task's limits come from. */
export interface LimitSettings {
  readonly maxConcurrency?: number | undefined;
  readonly rateLimit?: RateLimit | undefined;
}

/**
 * A task's limits: its own settings where given (scope: the task), else its environment's
 * (scope: the environment); `undefined` when neither sets any, so unlimited tasks carry nothing.
 */
export function taskLimits(
  taskName: string,
  own: LimitSettings,
  inherited: TaskLimits | undefined,
): TaskLimits | undefined {
  const taskScope = `task \`${taskName}\``;
  const concurrency =
    own.maxConcurrency !== undefined
      ? { scope: taskScope, max: own.maxConcurrency }
      : inherited?.concurrency;
  const rate =
    own.rateLimit !== undefined
      ? { scope: taskScope, max: own.rateLimit.max, perMs: own.rateLimit.perMs }
      : inherited?.rate;
  if (concurrency === undefined && rate === undefined) return undefined;
  return Object.freeze({
    ...(concurrency === undefined ? {} : { concurrency: Object.freeze({ ...concurrency }) }),
    ...(rate === undefined ? {} : { rate: Object.freeze({ ...rate }) }),
  });
}

/** An environment's limits (scope: the environment), or `undefined`. */
export function environmentLimits(
  envName: string,
  settings: LimitSettings,
): TaskLimits | undefined {
  const scope = `environment \`${envName}\``;
  const limits: TaskLimits = {
    ...(settings.maxConcurrency === undefined
      ? {}
      : { concurrency: { scope, max: settings.maxConcurrency } }),
    ...(settings.rateLimit === undefined
      ? {}
      : { rate: { scope, max: settings.rateLimit.max, perMs: settings.rateLimit.perMs } }),
  };
  return limits.concurrency === undefined && limits.rate === undefined
    ? undefined
    : Object.freeze(limits);
}
