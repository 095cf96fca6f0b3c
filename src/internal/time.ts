/**
 * Durations and the injected clock. Public durations are converted to milliseconds here, once.
 * @module
 */

/**
 * A length of time. A number means **seconds** (as in flyte); a string may carry a unit:
 * `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"1d"`, or a sum such as `"1h30m"`.
 *
 * @example
 * ```ts
 * new flyte.Timeout({ maxRuntime: "5m" });   // five minutes
 * new flyte.Timeout({ maxRuntime: 90 });     // ninety seconds
 * ```
 */
export type Duration = number | string;

const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Converts a {@link Duration} to milliseconds.
 * @throws TypeError with a message saying what was expected, when the value is not a duration.
 */
export function durationToMs(value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new TypeError(`Expected a duration of 0 or more seconds, got ${String(value)}.`);
    }
    return value * 1000;
  }
  if (typeof value === "string") {
    const text = value.trim();
    const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text)
      ? [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)]
      : null;
    if (parts && parts.length > 0) {
      return parts.reduce(
        (sum, [, amount, unit]) => sum + Number(amount) * (unitMs[unit ?? "s"] ?? 0),
        0,
      );
    }
    if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000;
  }
  throw new TypeError(
    `Expected a duration (seconds as a number, or a string such as "500ms", "30s", "5m", "2h"), got ${JSON.stringify(value) ?? String(value)}.`,
  );
}

/** Formats milliseconds for people: `"850ms"`, `"12.3s"`, `"4m05s"`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes}m${String(seconds).padStart(2, "0")}s`;
}

/** A cancel function for a timer. */
export type CancelTimer = () => void;

/**
 * Time as the engine sees it. Injected so backoff and deadline tests run on a
 * {@link ManualClock} instead of real time.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): CancelTimer;
}

/** The real clock: `Date.now()` and `setTimeout`. Timers do not keep the process alive past a run. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
};

interface ManualTimer {
  readonly at: number;
  readonly fn: () => void;
  readonly id: number;
}

/**
 * A clock that moves only when told to. Await {@link ManualClock.nextTimer} to know that the engine
 * has scheduled something, then {@link ManualClock.advance} past it.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const running = flyte.withRunContext({ clock }).run(flaky);
 * await clock.nextTimer();      // the engine is waiting out a backoff
 * clock.advance(500);
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #timers: ManualTimer[] = [];
  #nextId = 0;
  #waiters: Array<() => void> = [];

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): CancelTimer {
    const timer = { at: this.#now + Math.max(0, ms), fn, id: this.#nextId++ };
    this.#timers.push(timer);
    for (const wake of this.#waiters.splice(0)) wake();
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Milliseconds until each pending timer fires, soonest first. */
  get pending(): number[] {
    return this.#timers.map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /** Resolves when at least one timer is pending (at once if one already is). */
  async nextTimer(): Promise<number> {
    while (this.#timers.length === 0) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.pending[0] ?? 0;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = target;
  }
}
