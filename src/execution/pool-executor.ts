/**
 * The pooled executors: `runtime: "thread"` and `runtime: "process"`. Pools are per environment
 * and per set of environment variables (env vars, secrets and device pinning differ between
 * them). A reusable environment's pools outlive the run, in this process, until the environment
 * has been idle for `idleTtl` or {@link shutdown}; other pools end with the run.
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

/** Runs attempts on a pool of workers picked by the attempt's environment variables. */
class PoolExecutor implements Executor {
  readonly reportsPhases = true;
  readonly #kind: WorkerKind;
  readonly #template: TaskTemplate;
  readonly #pools: Map<string, WorkerPool>;
  readonly #reusable: boolean;
  readonly #prefix: string;

  constructor(
    kind: WorkerKind,
    template: TaskTemplate,
    prefix: string,
    reusablePools: Map<string, WorkerPool>,
  ) {
    this.#kind = kind;
    this.#template = template;
    this.#reusable = template.reusable !== undefined;
    this.#pools = this.#reusable ? reusablePools : new Map();
    this.#prefix = prefix;
  }

  execute(request: ExecuteRequest): Promise<unknown> {
    const key = `${this.#prefix}|${envDigest(request.env)}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = this.#newPool(request.env);
      this.#pools.set(key, pool);
    }
    const idleTtlMs = this.#template.reusable?.idleTtlMs;
    if (idleTtlMs !== undefined) return untilIdle(this.#pools, key, pool, idleTtlMs, request);
    return pool.execute(request);
  }

  async close(): Promise<void> {
    if (this.#reusable) return;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  #newPool(env: Readonly<Record<string, string>>): WorkerPool {
    const template = this.#template;
    const policy = template.reusable;
    const memoryBytes =
      template.resources?.memoryLimitBytes ?? template.resources?.memoryRequestBytes;
    return new WorkerPool({
      name: template.environment.name,
      spec: {
        kind: this.#kind,
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
 * other pools belong to the run that started them.
 */
export class PoolStore {
  // Keyed by environment, policy, heap limit and the digest of the workers' environment
  // variables (values are never kept in keys).
  readonly #reusable = new Map<string, WorkerPool>();
  readonly #inline = new InlineExecutor();

  /**
   * The executors of one run, by task runtime: a pool executor per environment for `"thread"`
   * and `"process"`, the inline executor for `"inline"`. Close the ones the run used when it
   * ends (reusable pools stay).
   */
  executorsForRun(): ExecutorFactory {
    const executors = new Map<string, Executor>();
    return (template) => {
      if (template.runtime === "inline") return this.#inline;
      const key = executorKey(template);
      let executor = executors.get(key);
      if (executor === undefined) {
        executor = new PoolExecutor(template.runtime, template, key, this.#reusable);
        executors.set(key, executor);
      }
      return executor;
    };
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

  /** Stops every reusable pool's workers; later runs start new ones. */
  async close(): Promise<void> {
    const pools = [...this.#reusable.values()];
    this.#reusable.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }
}
