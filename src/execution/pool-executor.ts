/**
 * The pooled executors: `runtime: "thread"` and `runtime: "process"`. Pools are per environment
 * and per set of environment variables (env vars, secrets and device pinning differ between
 * them). A reusable environment's pools outlive the run, in this process, until the environment
 * has been idle for `idleTtl` or {@link shutdown}. Other pools belong to one run while it runs;
 * when it ends they are kept warm, idle, for a short time ({@link defaultWarmPoolIdleMs}), so the
 * next run in the process with the same environment, variables and process environment takes
 * them instead of starting workers again.
 * @module
 */
import { availableParallelism } from "node:os";
import type { TaskTemplate } from "../api/task.js";
import { sha256Hex } from "../internal/hash.js";
import type { ExecuteRequest, Executor, ExecutorFactory } from "./executor.js";
import { InlineExecutor } from "./inline.js";
import type { WorkerKind } from "./worker-handle.js";
import { WorkerPool } from "./worker-pool.js";

const mib = 1024 * 1024;

/**
 * How many bodies one worker of a non-reusable environment may hold while they await
 * (I/O, timers); CPU-bound bodies still run one per worker.
 */
export const awaitingPerWorker = 1024;

/** A reusable pool's attempts in flight and the timer that stops it after `idleTtl` without any. */
interface Idleness {
  inFlight: number;
  timer: NodeJS.Timeout | undefined;
}
const idleness = new WeakMap<WorkerPool, Idleness>();

/**
 * Runs `request` on a reusable pool whose environment stops after `idleTtlMs` without attempts:
 * the pool is closed and forgotten, so the next call starts a new one.
 */
function untilIdle(
  pools: Map<string, WorkerPool>,
  key: string,
  pool: WorkerPool,
  idleTtlMs: number,
  request: ExecuteRequest,
): Promise<unknown> {
  let state = idleness.get(pool);
  if (state === undefined) {
    state = { inFlight: 0, timer: undefined };
    idleness.set(pool, state);
  }
  const idle = state;
  idle.inFlight++;
  if (idle.timer !== undefined) clearTimeout(idle.timer);
  idle.timer = undefined;
  return pool.execute(request).finally(() => {
    if (--idle.inFlight > 0) return;
    idle.timer = setTimeout(() => {
      if (idle.inFlight > 0 || pools.get(key) !== pool) return;
      pools.delete(key);
      void pool.close();
    }, idleTtlMs).unref();
  });
}

/**
 * How long the workers of a non-reusable environment stay warm after the run that used them
 * ended, in ms: a run started meanwhile in the same process takes them. Idle workers do not keep
 * the process alive, and `flyte.shutdown()` stops them at once.
 */
export const defaultWarmPoolIdleMs = 3_000;

/**
 * Non-reusable pools between runs: parked when their run ends, taken by the next run that needs
 * the same key, closed after `idleMs` untaken.
 */
class WarmPools {
  readonly #idleMs: number;
  readonly #parked = new Map<string, { pool: WorkerPool; timer: NodeJS.Timeout }>();

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  /** Whether pools are kept at all (an idle time above 0). */
  get enabled(): boolean {
    return this.#idleMs > 0;
  }

  has(key: string): boolean {
    return this.#parked.has(key);
  }

  take(key: string): WorkerPool | undefined {
    const parked = this.#parked.get(key);
    if (parked === undefined) return undefined;
    this.#parked.delete(key);
    clearTimeout(parked.timer);
    return parked.pool;
  }

  /** Keeps `pool` warm for the next run; a busy pool (or one more for a held key) is closed. */
  park(key: string, pool: WorkerPool): Promise<void> {
    if (this.#idleMs <= 0 || !pool.isIdle() || this.#parked.has(key)) return pool.close();
    const timer = setTimeout(() => {
      if (this.#parked.get(key)?.pool !== pool) return;
      this.#parked.delete(key);
      void pool.close();
    }, this.#idleMs).unref();
    this.#parked.set(key, { pool, timer });
    return Promise.resolve();
  }

  /** Pools parked now (their workers are idle). */
  get pools(): WorkerPool[] {
    return [...this.#parked.values()].map((parked) => parked.pool);
  }

  close(): Promise<void> {
    const parked = [...this.#parked.values()];
    this.#parked.clear();
    return Promise.all(
      parked.map(({ pool, timer }) => {
        clearTimeout(timer);
        return pool.close();
      }),
    ).then(() => undefined);
  }
}

/** Runs attempts on a pool of workers picked by the attempt's environment variables. */
class PoolExecutor implements Executor {
  readonly reportsPhases = true;
  readonly #kind: WorkerKind;
  readonly #template: TaskTemplate;
  readonly #pools: Map<string, WorkerPool>;
  readonly #reusable: boolean;
  readonly #prefix: string;
  /** Where a non-reusable executor's pools wait between runs (and come from). */
  readonly #warm: WarmPools;

  constructor(
    kind: WorkerKind,
    template: TaskTemplate,
    prefix: string,
    reusablePools: Map<string, WorkerPool>,
    warm: WarmPools,
  ) {
    this.#kind = kind;
    this.#template = template;
    this.#reusable = template.reusable !== undefined;
    this.#pools = this.#reusable ? reusablePools : new Map();
    this.#prefix = prefix;
    this.#warm = warm;
  }

  execute(request: ExecuteRequest): Promise<unknown> {
    const key = poolKey(this.#prefix, request.env);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool =
        (this.#reusable ? undefined : this.#warm.take(key)) ??
        newPool(this.#kind, this.#template, request.env);
      this.#pools.set(key, pool);
    }
    const idleTtlMs = this.#template.reusable?.idleTtlMs;
    if (idleTtlMs !== undefined) return untilIdle(this.#pools, key, pool, idleTtlMs, request);
    return pool.execute(request);
  }

  async close(): Promise<void> {
    if (this.#reusable) return;
    const pools = [...this.#pools];
    this.#pools.clear();
    await Promise.all(pools.map(([key, pool]) => this.#warm.park(key, pool)));
  }
}

/** A new pool for `template`'s environment whose workers get `env` added to the host's. */
function newPool(
  kind: WorkerKind,
  template: TaskTemplate,
  env: Readonly<Record<string, string>>,
): WorkerPool {
  const policy = template.reusable;
  const memoryBytes =
    template.resources?.memoryLimitBytes ?? template.resources?.memoryRequestBytes;
  return new WorkerPool({
    name: template.environment.name,
    spec: {
      kind,
      env,
      heapLimitMb:
        memoryBytes === undefined ? undefined : Math.max(16, Math.floor(memoryBytes / mib)),
    },
    minWorkers: policy?.minReplicas ?? 0,
    maxWorkers: policy?.maxReplicas ?? availableParallelism(),
    concurrency: policy?.concurrency ?? 1,
    // Bodies that only await share a worker, up to this many per worker; a reusable
    // environment's `concurrency` stays an exact limit.
    maxAwaitingPerWorker: policy === undefined ? awaitingPerWorker : 0,
    idleTtlMs: policy?.scaledownTtlMs,
  });
}

// A task's own envVars object is passed on every call that adds nothing to it (run/controller.ts).
const envDigests = new WeakMap<object, string>();

function envDigest(env: Readonly<Record<string, string>>): string {
  let digest = envDigests.get(env);
  if (digest === undefined) {
    digest = computeEnvDigest(env);
    if (Object.isFrozen(env)) envDigests.set(env, digest);
  }
  return digest;
}

/**
 * The first part of a pool's key: its executor's, and for a non-reusable environment (whose
 * pools wait warm between runs) the digest of the host environment its workers copied.
 */
function poolPrefix(template: TaskTemplate, hostEnv: string): string {
  const key = executorKey(template);
  return template.reusable === undefined ? `${key}|${hostEnv}` : key;
}

/** A pool's key: its prefix and the digest of the variables its workers get added. */
function poolKey(prefix: string, env: Readonly<Record<string, string>>): string {
  return `${prefix}|${envDigest(env)}`;
}

function computeEnvDigest(env: Readonly<Record<string, string>>): string {
  const entries = Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? "-" : sha256Hex(JSON.stringify(entries)).slice(0, 32);
}

function executorKey(template: TaskTemplate): string {
  const policy = template.reusable;
  const memory = template.resources?.memoryLimitBytes ?? template.resources?.memoryRequestBytes;
  const reuse =
    policy === undefined
      ? "fresh"
      : `${policy.minReplicas}-${policy.maxReplicas}-${policy.concurrency}-${policy.idleTtlMs}-${policy.scaledownTtlMs}-${policy.reuseSalt ?? ""}`;
  return `${template.runtime}|${template.environment.name}|${reuse}|${memory ?? ""}`;
}

/**
 * The worker pools of one engine. A reusable environment's pools are kept here and outlive runs;
 * other pools belong to one run while it runs, then wait warm here for the next.
 */
export class PoolStore {
  // Keyed by environment, policy, heap limit and the digest of the workers' environment
  // variables (values are never kept in keys).
  readonly #reusable = new Map<string, WorkerPool>();
  readonly #warm: WarmPools;
  readonly #inline = new InlineExecutor();

  /**
   * @param warmPoolIdleMs - how long a non-reusable environment's pool stays warm after its run,
   *   in ms (0: it ends with the run). @default {@link defaultWarmPoolIdleMs}
   */
  constructor(warmPoolIdleMs: number = defaultWarmPoolIdleMs) {
    this.#warm = new WarmPools(warmPoolIdleMs);
  }

  /**
   * The executors of one run, by task runtime: a pool executor per environment for `"thread"`
   * and `"process"`, the inline executor for `"inline"`. Close the ones the run used when it
   * ends (reusable pools stay; the others are kept warm for the next run).
   */
  executorsForRun(): ExecutorFactory {
    const executors = new Map<string, Executor>();
    // A warm pool's workers took a copy of process.env when they started: a run that changed it
    // since gets pools of its own.
    const hostEnv = envDigest(process.env as Record<string, string>);
    return (template) => {
      if (template.runtime === "inline") return this.#inline;
      const key = executorKey(template);
      let executor = executors.get(key);
      if (executor === undefined) {
        const prefix = poolPrefix(template, hostEnv);
        executor = new PoolExecutor(template.runtime, template, prefix, this.#reusable, this.#warm);
        executors.set(key, executor);
      }
      return executor;
    };
  }

  /**
   * Starts the first worker of a run's root task before the run gets to it (while it opens its
   * stores and loads the controller), parked where the run's executor will look for it. Only
   * where the attempt's environment is known now: a non-reusable pooled environment with no
   * secrets, devices or core pinning, and a run that adds no variables; otherwise nothing.
   */
  prestart(template: TaskTemplate, version: string): void {
    if (!this.#warm.enabled || template.runtime === "inline" || template.reusable !== undefined) {
      return;
    }
    if (template.secrets.length > 0 || template.resources?.getDevice() != null) return;
    const hostEnv = envDigest(process.env as Record<string, string>);
    const key = poolKey(poolPrefix(template, hostEnv), template.envVars);
    if (this.#warm.has(key)) return;
    const pool = newPool(template.runtime, template, template.envVars);
    pool.prestart(template, version);
    void this.#warm.park(key, pool);
  }

  /** Workers alive in the pools kept warm between runs (non-reusable environments). */
  warmSize(): number {
    let size = 0;
    for (const pool of this.#warm.pools) size += pool.size;
    return size;
  }

  /** Workers alive in each reusable pool, by environment name. */
  sizes(): Record<string, number> {
    const sizes: Record<string, number> = {};
    for (const [key, pool] of this.#reusable) {
      const name = key.split("|")[1] ?? key;
      sizes[name] = (sizes[name] ?? 0) + pool.size;
    }
    return sizes;
  }

  /** Stops every reusable pool's workers and the warm ones; later runs start new ones. */
  async close(): Promise<void> {
    const pools = [...this.#reusable.values()];
    this.#reusable.clear();
    await Promise.all([...pools.map((pool) => pool.close()), this.#warm.close()]);
  }
}
