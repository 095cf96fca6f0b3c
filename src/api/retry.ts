/**
 * How often a failed task is tried again, and how long to wait in between: {@link RetryStrategy}.
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { type Duration, durationToMs } from "../internal/time.js";

/** The delay before the first retry, in milliseconds (0.5 s, as flyte's local retries). */
export const RETRY_BASE_DELAY_MS = 500;

/** The default cap on one delay between attempts, in milliseconds (60 s). */
export const DEFAULT_RETRY_BACKOFF_MS = 60_000;

/** Options of {@link RetryStrategy}. */
export interface RetryOptions {
  /** How many times to retry after the first attempt fails; `0` means never. An integer of 0 or more. */
  count: number;
  /**
   * The longest wait between two attempts (the cap of the exponential backoff). A number is
   * seconds; strings such as `"30s"` are accepted. `0` means retry at once (handy in tests).
   * @default 60 (seconds)
   */
  backoff?: Duration;
  /**
   * How much each wait grows over the previous one. A finite number of 1 or more; `1` keeps every
   * wait at 0.5 s.
   * @default 2
   */
  backoffFactor?: number;
}

/**
 * How a failed task is retried. A task makes at most `count + 1` attempts; every failure is
 * retried except a `NonRecoverableError` (and errors a retry cannot fix, such as invalid
 * configuration). The wait before retry `n` (0-based) is `min(0.5 s × backoffFactor^n, backoff)`,
 * starting when the failed attempt ends.
 *
 * @example
 * ```ts
 * env.task({ retries: 3 }, fn);   // 3 retries: waits 0.5 s, 1 s, 2 s
 * env.task({ retries: new flyte.RetryStrategy({ count: 5, backoff: 10, backoffFactor: 3 }) }, fn);
 * ```
 */
export class RetryStrategy {
  /** How many retries after the first attempt. */
  readonly count: number;
  /** The cap on one wait between attempts, in milliseconds; 0 means no wait at all. */
  readonly backoffMs: number;
  /** How much each wait grows over the previous one. */
  readonly backoffFactor: number;

  /** @throws InvalidConfigError listing every invalid option, each with its path. */
  constructor(options: RetryOptions) {
    const problems = new Problems("RetryStrategy");
    checkKeys(problems, options, ["count", "backoff", "backoffFactor"]);
    const { count, backoff, backoffFactor = 2 } = options ?? ({} as RetryOptions);
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
      problems.add(
        "count",
        `Expected \`count\` to be an integer of 0 or more, got ${describe(count)}.`,
      );
    }
    const backoffMs =
      backoff === undefined
        ? DEFAULT_RETRY_BACKOFF_MS
        : problems.nested("backoff", () => durationToMs(backoff));
    if (typeof backoffFactor !== "number" || !Number.isFinite(backoffFactor) || backoffFactor < 1) {
      problems.add(
        "backoffFactor",
        `Expected \`backoffFactor\` to be a finite number of 1 or more, got ${describe(backoffFactor)}. Use 1 for a constant wait.`,
      );
    }
    problems.throwIfAny();
    this.count = count;
    this.backoffMs = backoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
    this.backoffFactor = backoffFactor;
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
   * Milliseconds to wait before retry `retryIndex` (0 for the first retry):
   * `min(500 × backoffFactor^retryIndex, backoffMs)`.
   * @throws RangeError when `retryIndex` is not an integer of 0 or more
   * @example
   * ```ts
   * new RetryStrategy({ count: 5 }).delayMs(3); // 4000
   * ```
   */
  delayMs(retryIndex: number): number {
    if (!Number.isInteger(retryIndex) || retryIndex < 0) {
      throw new RangeError(
        `Expected \`retryIndex\` to be an integer of 0 or more, got ${describe(retryIndex)}.`,
      );
    }
    return Math.min(RETRY_BASE_DELAY_MS * this.backoffFactor ** retryIndex, this.backoffMs);
  }
}
