/**
 * How often a failed task is tried again, and how long to wait in between: {@link RetryStrategy}.
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { type Duration, durationToMs } from "../internal/time.js";
import { Backoff, type BackoffOptions } from "./backoff.js";

/** The wait before the first retry when no `backoff` is given, in milliseconds (0.5 s, as flyte's local retries). */
export const RETRY_BASE_DELAY_MS = 500;

/** The cap on one wait when no `backoff` is given, in milliseconds (60 s; upstream has none locally). */
export const DEFAULT_RETRY_BACKOFF_MS = 60_000;

/** Options of {@link RetryStrategy}. */
export interface RetryOptions {
  /** How many times to retry after the first attempt fails; `0` means never. An integer of 0 or more. */
  count: number;
  /**
   * How long to wait between attempts:
   * - a {@link Backoff} (or its options `{ base, factor, cap }`): wait `min(base × factor^n, cap)`
   *   before retry `n`, as upstream's `flyte.Backoff`;
   * - a duration (seconds as a number, or `"30s"`; the seed's spelling): the wait before the first
   *   retry, the `base` of a backoff growing by `backoffFactor` without a cap. `0` retries at once.
   * @default 0.5 s growing by `backoffFactor` (default 2), at most 60 s
   */
  backoff?: Backoff | BackoffOptions | Duration;
  /**
   * The seed's growth factor, for a duration `backoff` (or for the default wait of 0.5 s): each
   * wait is this many times the previous one. A finite number of 1 or more. With a {@link Backoff},
   * give its `factor` instead.
   * @default 1 with a duration `backoff`, else 2
   */
  backoffFactor?: number;
}

function isDuration(value: unknown): value is Duration {
  return typeof value === "number" || typeof value === "string";
}

/** The policy a RetryStrategy's options describe. */
function backoffOf(problems: Problems, options: RetryOptions): Backoff | undefined {
  const { backoff, backoffFactor } = options;
  if (
    backoffFactor !== undefined &&
    (typeof backoffFactor !== "number" || !Number.isFinite(backoffFactor) || backoffFactor < 1)
  ) {
    problems.add(
      "backoffFactor",
      `Expected \`backoffFactor\` to be a finite number of 1 or more, got ${describe(backoffFactor)}. Use 1 for a constant wait.`,
    );
    return undefined;
  }
  if (backoff instanceof Backoff || (typeof backoff === "object" && backoff !== null)) {
    if (backoffFactor !== undefined) {
      problems.add(
        "backoffFactor",
        "`backoffFactor` applies to a duration `backoff` only; with a Backoff, give its `factor` instead.",
      );
    }
    return backoff instanceof Backoff
      ? backoff
      : problems.nested("backoff", () => new Backoff(backoff));
  }
  if (isDuration(backoff)) {
    if (problems.nested("backoff", () => durationToMs(backoff)) === undefined) return undefined;
    return problems.nested("backoff", () =>
      Backoff.uncapped({ base: backoff, factor: backoffFactor ?? 1 }),
    );
  }
  if (backoff !== undefined) {
    problems.add(
      "backoff",
      `Expected \`backoff\` to be a Backoff, its options { base, factor, cap }, or a duration such as 10 or "500ms", got ${describe(backoff)}.`,
    );
  }
  return undefined;
}

/**
 * How a failed task is retried. A task makes at most `count + 1` attempts; every failure is
 * retried except a `NonRecoverableError` (and errors a retry cannot fix, such as invalid
 * configuration). The wait before retry `n` (0-based) starts when the failed attempt ends and is
 * given by `backoff` (see {@link RetryOptions.backoff}); without one it is
 * `min(0.5 s × backoffFactor^n, 60 s)`, as flyte's local retries (which have no cap).
 *
 * @example
 * ```ts
 * env.task({ retries: 3 }, fn);   // 3 retries: waits 0.5 s, 1 s, 2 s
 * env.task({ retries: new flyte.RetryStrategy({ count: 4, backoff: new flyte.Backoff({ base: 1, factor: 2, cap: 5 }) }) }, fn);
 * env.task({ retries: new flyte.RetryStrategy({ count: 3, backoff: 10 }) }, fn);   // waits 10 s each time
 * ```
 */
export class RetryStrategy {
  /** How many retries after the first attempt. */
  readonly count: number;
  /** The waits between attempts. Without a `backoff` option: 0.5 s × `backoffFactor`^n, at most 60 s. */
  readonly backoff: Backoff;

  /** @throws InvalidConfigError listing every invalid option, each with its path. */
  constructor(options: RetryOptions) {
    const problems = new Problems("RetryStrategy");
    checkKeys(problems, options, ["count", "backoff", "backoffFactor"]);
    const { count } = options ?? ({} as RetryOptions);
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
      problems.add(
        "count",
        `Expected \`count\` to be an integer of 0 or more, got ${describe(count)}.`,
      );
    }
    const given = backoffOf(problems, options ?? ({} as RetryOptions));
    problems.throwIfAny();
    this.count = count;
    this.backoff =
      given ??
      new Backoff({
        base: RETRY_BASE_DELAY_MS / 1000,
        factor: options.backoffFactor ?? 2,
        cap: DEFAULT_RETRY_BACKOFF_MS / 1000,
      });
    Object.freeze(this);
  }

  /**
   * Returns `request` if it already is a RetryStrategy; a number `n` means `{ count: n }`.
   * @example
   * ```ts
   * RetryStrategy.from(2).count; // 2
   * ```
   */
  static from(request: number | RetryStrategy | RetryOptions): RetryStrategy {
    if (request instanceof RetryStrategy) return request;
    return new RetryStrategy(typeof request === "number" ? { count: request } : request);
  }

  /** The most attempts a task makes: `count + 1`. */
  get maxAttempts(): number {
    return this.count + 1;
  }

  /**
   * Milliseconds to wait before retry `retryIndex` (0 for the first retry).
   * @throws RangeError when `retryIndex` is not an integer of 0 or more
   * @example
   * ```ts
   * new RetryStrategy({ count: 5 }).delayMs(3); // 4000
   * ```
   */
  delayMs(retryIndex: number): number {
    return this.backoff.delayMs(retryIndex);
  }
}
