/**
 * How long to wait between the attempts of a failed task: {@link Backoff}, flyte's later
 * `flyte.Backoff(base, factor, cap)`.
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { type Duration, durationToMs } from "../internal/time.js";

/** Options of {@link Backoff}. Durations are seconds as a number, or strings such as `"500ms"`. */
export interface BackoffOptions {
  /** The wait before the first retry. `0` retries at once. */
  base: Duration;
  /**
   * How much each wait grows over the previous one: `1` keeps every wait at `base`, `2` doubles
   * it. A finite number of 1 or more.
   * @default 1
   */
  factor?: number;
  /**
   * The longest one wait may be. Required when `factor` is above 1, so waits cannot grow without
   * bound (as upstream).
   * @default no cap (only allowed with factor 1)
   */
  cap?: Duration;
}

/** The state of a Backoff once its options are read. */
interface BackoffState {
  readonly baseMs: number;
  readonly factor: number;
  readonly capMs: number | undefined;
}

/** Reads and checks {@link BackoffOptions}; `requireCap: false` allows growth without a cap. */
function readOptions(options: BackoffOptions, requireCap: boolean): BackoffState {
  const problems = new Problems("Backoff");
  if (!checkKeys(problems, options, ["base", "factor", "cap"])) problems.throwIfAny();
  const { base, factor = 1, cap } = options;
  let baseMs: number | undefined;
  if (base === undefined) {
    problems.add(
      "base",
      'Expected `base` to be the wait before the first retry, such as 1 or "500ms", got undefined.',
    );
  } else baseMs = problems.nested("base", () => durationToMs(base));
  if (typeof factor !== "number" || !Number.isFinite(factor) || factor < 1) {
    problems.add(
      "factor",
      `Expected \`factor\` to be a finite number of 1 or more, got ${describe(factor)}. Use 1 for a constant wait.`,
    );
  }
  const capMs = cap === undefined ? undefined : problems.nested("cap", () => durationToMs(cap));
  if (requireCap && cap === undefined && typeof factor === "number" && factor > 1) {
    problems.add(
      "cap",
      `A growing backoff (factor ${factor}) needs a \`cap\` on one wait, so waits cannot grow without bound. Pass e.g. \`cap: "5m"\`, or \`factor: 1\` for a constant wait.`,
    );
  }
  problems.throwIfAny();
  return { baseMs: baseMs ?? 0, factor, capMs };
}

// Off only while Backoff.uncapped() constructs one (synchronously).
let capRequired = true;

/**
 * Exponential backoff between the retries of a task: the wait before retry `n` (0 for the first
 * retry) is `min(base × factor^n, cap)`, measured from the end of the failed attempt. Use it as
 * `RetryStrategy`'s `backoff`. Immutable.
 *
 * @example
 * ```ts
 * // waits 1 s, 2 s, 4 s, then 5 s
 * new flyte.RetryStrategy({ count: 4, backoff: new flyte.Backoff({ base: 1, factor: 2, cap: 5 }) });
 * ```
 */
export class Backoff {
  /** The wait before the first retry, in milliseconds. */
  readonly baseMs: number;
  /** How much each wait grows over the previous one. */
  readonly factor: number;
  /** The longest one wait may be, in milliseconds; `undefined` for no cap. */
  readonly capMs: number | undefined;

  /**
   * @throws InvalidConfigError listing every invalid option, each with its path (a missing or
   *   negative `base`, a `factor` below 1, a growing backoff without a `cap`)
   */
  constructor(options: BackoffOptions) {
    const state = readOptions(options, capRequired);
    this.baseMs = state.baseMs;
    this.factor = state.factor;
    this.capMs = state.capMs;
    Object.freeze(this);
  }

  /**
   * A backoff that may grow without a cap: the seed's `RetryStrategy({ backoff, backoffFactor })`,
   * which has nowhere to put one (the retry count still bounds the waits).
   * @internal
   */
  static uncapped(options: BackoffOptions): Backoff {
    capRequired = false;
    try {
      return new Backoff(options);
    } finally {
      capRequired = true;
    }
  }

  /**
   * Milliseconds to wait before retry `retryIndex` (0 for the first retry):
   * `min(baseMs × factor^retryIndex, capMs)`.
   * @throws RangeError when `retryIndex` is not an integer of 0 or more
   * @example
   * ```ts
   * new flyte.Backoff({ base: 1, factor: 2, cap: 5 }).delayMs(3); // 5000
   * ```
   */
  delayMs(retryIndex: number): number {
    if (!Number.isInteger(retryIndex) || retryIndex < 0) {
      throw new RangeError(
        `Expected \`retryIndex\` to be an integer of 0 or more, got ${describe(retryIndex)}.`,
      );
    }
    const delay = this.baseMs * this.factor ** retryIndex;
    return this.capMs === undefined ? delay : Math.min(delay, this.capMs);
  }
}
