/**
 * The engine: the long-lived state of flyte-ts in a process — the resource scheduler and its
 * ledger, the concurrency and rate limits of environments and tasks, the worker pools, the stores
 * of each `.flyte` folder. Runs borrow them. One default
 * engine per process serves `flyte.run` and `withRunContext`; `flyte-ts/testing` makes isolated
 * ones. (Task definitions are not engine state: `env.task` registers a task when its module is
 * imported, before any engine exists.)
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import type { CacheStore } from "../cache/cache-store.js";
import { type DigestMemo, useDigestMemo } from "../cache/file-digest.js";
import { SqliteCacheStore } from "../cache/sqlite-cache-store.js";
import type { ExecutorFactory } from "../execution/executor.js";
import { PoolStore } from "../execution/pool-executor.js";
import { RunStore } from "../record/run-store.js";
import { LimitBook } from "../scheduler/limit-gates.js";
import { LocalScheduler } from "../scheduler/local-scheduler.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { prestartsRoot } from "./root-prestart.js";
import type { RunOptions } from "./run-options.js";
import { setDefaultEngine, shutdown, theDefaultEngine } from "./shutdown.js";

/** What an engine is made with; each part left out gets its default. */
export interface EngineOptions {
  /** Admits attempts. @default a LocalScheduler over this host's detected inventory */
  scheduler?: Scheduler;
  /** Where task bodies run. @default thread and process pools per environment, inline for `"inline"` */
  executorFor?: ExecutorFactory;
  /** The cache, for every `.flyte` folder. @default `<flyte dir>/cache.db` */
  cache?: CacheStore;
  /** The run store, for every `.flyte` folder. @default `<flyte dir>/runs.db` */
  runStore?: RunStore;
  /**
   * How long the workers of an environment without a `ReusePolicy` stay warm after the run that
   * started them, in ms, for the next run in this process to take; 0 stops them with their run.
   * The clock starts when the run ends. @default 3000
   */
  warmPoolIdleMs?: number;
}

/** The stores of one `.flyte` folder. */
export interface HomeStores {
  readonly cache: CacheStore;
  readonly runs: RunStore;
}

/**
 * Owns a process's scheduler, worker pools and stores.
 *
 * @example
 * ```ts
 * import { createEngine } from "flyte-ts/testing";
 * const engine = createEngine({ scheduler });
 * await new flyte.RunContext({ name: "t" }, engine).run(main);
 * await engine.shutdown();
 * ```
 */
export class Engine {
  readonly pools: PoolStore;
  /**
   * The environments' and tasks' `maxConcurrency` and `rateLimit` gates: they hold across every
   * run that uses this engine.
   */
  readonly limits = new LimitBook();
  readonly #options: EngineOptions;
  #scheduler: Scheduler | undefined;
  readonly #stores = new Map<
    string,
    { cache: SqliteCacheStore; runs: RunStore; digests: DigestMemo }
  >();

  constructor(options: EngineOptions = {}) {
    this.#options = options;
    this.pools = new PoolStore(options.warmPoolIdleMs);
  }

  /** The resource scheduler, made at first use (host detection starts then). */
  get scheduler(): Scheduler {
    this.#scheduler ??= this.#options.scheduler ?? new LocalScheduler();
    return this.#scheduler;
  }

  /** The executors of one run (see {@link PoolStore.executorsForRun}). */
  executorsForRun(): ExecutorFactory {
    return this.#options.executorFor ?? this.pools.executorsForRun();
  }

  /**
   * Starts the worker of a run's root `task` ahead of the run's first attempt when nothing can
   * change where it runs (a local run that adds no variables, no resume, no caching, no core
   * pinning, this engine's own pools); the run's executor then finds it warm. See
   * {@link PoolStore.prestart}.
   */
  prestartRoot(task: TaskTemplate, options: RunOptions): void {
    if (this.#options.executorFor !== undefined || !prestartsRoot(task, options)) return;
    this.pools.prestart(task, "");
  }

  /**
   * The stores of `home` (an absolute path), opened on first use and kept for later runs. File
   * digests are remembered in the cache database of the folder used last.
   */
  storesOf(home: string): HomeStores {
    let stores = this.#stores.get(home);
    if (stores === undefined) {
      const cache = new SqliteCacheStore(home);
      stores = { cache, runs: new RunStore(home), digests: digestsOnUse(cache) };
      this.#stores.set(home, stores);
    }
    useDigestMemo(stores.digests);
    return {
      cache: this.#options.cache ?? stores.cache,
      runs: this.#options.runStore ?? stores.runs,
    };
  }

  /** Stops every reusable environment's workers and the warm ones. Runs started later start new ones. */
  shutdown(): Promise<void> {
    return this.pools.close();
  }
}

/**
 * The cache database's file digests, the database opened when a file input is first digested:
 * a run that has no file inputs and no cached task never opens `cache.db` (cold start).
 */
function digestsOnUse(cache: SqliteCacheStore): DigestMemo {
  let memo: DigestMemo | undefined | null = null;
  const opened = () => {
    if (memo === null) memo = cache.digestMemo();
    return memo;
  };
  return {
    get: (path, size, mtimeNs) => opened()?.get(path, size, mtimeNs),
    set: (path, size, mtimeNs, digest) => opened()?.set(path, size, mtimeNs, digest),
  };
}

/** This process's engine, made at first use. */
export function defaultEngine(): Engine {
  return theDefaultEngine() ?? setDefaultEngine(new Engine());
}

export { shutdown };
