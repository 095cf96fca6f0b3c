/**
 * Keeping an environment's workers warm between tasks: {@link ReusePolicy}.
 * @module
 */
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { type Duration, durationToMs } from "../internal/time.js";

/** Options of {@link ReusePolicy}. */
export interface ReusePolicyOptions {
  /**
   * How many warm workers: `n` keeps exactly `n`; `[min, max]` keeps `min` and grows to `max`
   * under load. Integers of 1 or more.
   * @default 2
   */
  replicas?: number | readonly [number, number];
  /**
   * How long the whole environment may sit idle (no attempt running on any of its workers)
   * before every worker stops, the `min` ones included; the next call starts new workers (and
   * module state starts afresh). The clock starts when the last running attempt ends. A number
   * is seconds; `0` or leaving it out keeps the workers until `flyte.shutdown()`.
   * @default no limit (upstream: 30 s)
   */
  idleTtl?: Duration;
  /**
   * How long one worker above `min` may sit idle before it is stopped, so a pool grown for a
   * burst shrinks back. The clock starts when the worker finishes its last attempt. A number is
   * seconds; `0` keeps idle workers.
   * @default `idleTtl` (upstream: 30 s)
   */
  scaledownTtl?: Duration;
  /**
   * How many tasks one worker runs at the same time (async tasks only). An integer of 1 or more.
   * @default 1
   */
  concurrency?: number;
  /**
   * Names the pool's generation. Without it, new task code starts a new pool; with it, the pool
   * survives code changes until the salt changes.
   */
  reuseSalt?: string;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1;
}

/**
 * Makes an environment keep a pool of warm workers that outlive each task, so module state (a
 * loaded model, a connection) survives between calls. Capacity is `maxReplicas × concurrency`
 * tasks at once.
 *
 * @example
 * ```ts
 * new flyte.TaskEnvironment({
 *   name: "inference",
 *   reusable: new flyte.ReusePolicy({ replicas: [1, 4], idleTtl: 600, scaledownTtl: 60, concurrency: 2 }),
 * });
 * ```
 */
export class ReusePolicy {
  /** The pool never shrinks below this many workers. */
  readonly minReplicas: number;
  /** The pool never grows above this many workers. */
  readonly maxReplicas: number;
  /** How long the whole environment may be idle before all its workers stop, in milliseconds; `undefined`: until shutdown. */
  readonly idleTtlMs: number | undefined;
  /** How long an idle worker above `minReplicas` is kept, in milliseconds; `undefined`: until the pool stops. */
  readonly scaledownTtlMs: number | undefined;
  /** How many tasks one worker runs at the same time. */
  readonly concurrency: number;
  /** The pool's generation name, or `undefined` to follow the code version. */
  readonly reuseSalt: string | undefined;
  /** Settings that are valid but risky, each as a sentence saying what to do. */
  readonly warnings: readonly string[];

  /** @throws InvalidConfigError listing every invalid option, each with its path. */
  constructor(options: ReusePolicyOptions = {}) {
    const problems = new Problems("ReusePolicy");
    checkKeys(problems, options, [
      "replicas",
      "idleTtl",
      "scaledownTtl",
      "concurrency",
      "reuseSalt",
    ]);
    const { replicas = 2, idleTtl, scaledownTtl, concurrency = 1, reuseSalt } = options ?? {};
    let min = 2;
    let max = 2;
    const expected = "an integer of 1 or more, or a [min, max] pair of them";
    if (isCount(replicas)) {
      min = replicas;
      max = replicas;
    } else if (Array.isArray(replicas) && replicas.length === 2) {
      const [low, high] = replicas as readonly unknown[];
      if (!isCount(low))
        problems.add(
          "replicas[0]",
          `Expected the minimum replicas to be an integer of 1 or more, got ${describe(low)}.`,
        );
      if (!isCount(high))
        problems.add(
          "replicas[1]",
          `Expected the maximum replicas to be an integer of 1 or more, got ${describe(high)}.`,
        );
      if (isCount(low) && isCount(high)) {
        if (low > high)
          problems.add(
            "replicas",
            `Expected \`replicas\` to be [min, max] with min <= max, got [${low}, ${high}]. Swap them.`,
          );
        min = low;
        max = high;
      }
    } else {
      problems.add(
        "replicas",
        `Expected \`replicas\` to be ${expected}, got ${describe(replicas)}.`,
      );
    }
    const idleTtlMs =
      idleTtl === undefined ? undefined : problems.nested("idleTtl", () => durationToMs(idleTtl));
    const scaledownTtlMs =
      scaledownTtl === undefined
        ? idleTtlMs
        : problems.nested("scaledownTtl", () => durationToMs(scaledownTtl));
    if (!isCount(concurrency)) {
      problems.add(
        "concurrency",
        `Expected \`concurrency\` to be an integer of 1 or more, got ${describe(concurrency)}.`,
      );
    }
    if (reuseSalt !== undefined && (typeof reuseSalt !== "string" || reuseSalt === "")) {
      problems.add(
        "reuseSalt",
        `Expected \`reuseSalt\` to be a non-empty string, got ${describe(reuseSalt)}.`,
      );
    }
    problems.throwIfAny();
    this.minReplicas = min;
    this.maxReplicas = max;
    this.idleTtlMs = idleTtlMs === 0 ? undefined : idleTtlMs;
    this.scaledownTtlMs = scaledownTtlMs === 0 ? undefined : scaledownTtlMs;
    this.concurrency = concurrency;
    this.reuseSalt = reuseSalt;
    this.warnings = Object.freeze(
      max === 1 && concurrency === 1
        ? [
            "A reusable environment with one replica and concurrency 1 runs one task at a time, so a child of the same environment waits while its parent holds the only worker. Raise `replicas` or `concurrency` if tasks of this environment call each other.",
          ]
        : [],
    );
    Object.freeze(this);
  }

  /** The most tasks the pool runs at once: `maxReplicas × concurrency`. */
  get capacity(): number {
    return this.maxReplicas * this.concurrency;
  }
}
