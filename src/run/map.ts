/**
 * `flyte.map(task, inputs, options)`: calls a task once per input with bounded concurrency and
 * returns the results in input order.
 * @module
 */

import { isPartialTask, type PartialTask } from "../api/partial.js";
import { isSlurm } from "../api/slurm.js";
import { type AnyTask, callAsMapItem, type Task } from "../api/task.js";
import { currentFrame, type MapItem } from "../context/context.js";
import { group } from "../context/group.js";
import { nodeCrypto } from "../internal/node-crypto.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";
import { type ChunkFailure, chunkSizeFor, runChunks } from "./map-batch.js";

/** Options of {@link map}. */
export interface MapOptions {
  /** At most this many calls in flight; 0 means no limit. @default 0 */
  concurrency?: number;
  /**
   * Put a failed call's error in its place in the results instead of rejecting.
   * @default true (as upstream)
   */
  returnExceptions?: boolean;
  /** Names the group the calls are made in: `"<task>_<groupName>"`. @default "map" */
  groupName?: string;
  /**
   * Items sent to a worker per message (one sub-action per chunk). Applies inside a run to
   * tasks on a thread or process runtime with no cache, retries or timeout, and no
   * `concurrency` limit; `1` turns batching off.
   * @default automatic: no batching under 64 items, else items / 64 clamped to 8..1024
   */
  batchSize?: number;
}

/** One input of a mapped task: the argument for a one-parameter task, else the argument list. */
export type MapInput<A extends unknown[]> = A extends readonly [unknown?] ? A[0] : A;

/**
 * The results of a map: await it for the whole ordered array, or iterate it with `for await`
 * to take each result, in input order, as soon as it and those before it are done.
 */
export interface MapResults<T> extends PromiseLike<T[]>, AsyncIterable<T> {}

/**
 * Calls `task` once per input, at most `concurrency` at a time, and returns the results in input
 * order. Inside a run the calls are sub-actions in the group `"<task>_map"`. A
 * `task.partial({...})` maps the inputs over its one free parameter, each call being a plain
 * call of the task with every argument (its own cache key and record).
 *
 * @example
 * ```ts
 * const squares = await flyte.map(square, [1, 2, 3], { concurrency: 2, returnExceptions: false });
 * for await (const r of flyte.map(fetchOne, urls)) { if (r instanceof Error) console.warn(r); }
 * const scaled = await flyte.map(scale.partial({ factor: 2 }), [1, 2, 3]);
 * ```
 */
export function map<A extends unknown[], R>(
  task: PartialTask<A, R>,
  inputs: Iterable<unknown>,
  options: MapOptions & { returnExceptions: false },
): MapResults<Awaited<R>>;
export function map<A extends unknown[], R>(
  task: PartialTask<A, R>,
  inputs: Iterable<unknown>,
  options?: MapOptions,
): MapResults<Awaited<R> | Error>;
export function map<A extends unknown[], R>(
  task: Task<A, R>,
  inputs: Iterable<MapInput<A>>,
  options: MapOptions & { returnExceptions: false },
): MapResults<Awaited<R>>;
export function map<A extends unknown[], R>(
  task: Task<A, R>,
  inputs: Iterable<MapInput<A>>,
  options?: MapOptions,
): MapResults<Awaited<R> | Error>;
export function map<A extends unknown[], R>(
  mapped: Task<A, R> | PartialTask<A, R>,
  inputs: Iterable<MapInput<A>> | Iterable<unknown>,
  options: MapOptions = {},
): MapResults<unknown> {
  const problems = new Problems("flyte.map options");
  checkKeys(problems, options, ["concurrency", "returnExceptions", "groupName", "batchSize"]);
  const batchSize: unknown = options?.batchSize;
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || (batchSize as number) < 1)) {
    problems.add(
      "batchSize",
      `Expected \`batchSize\` to be a whole number >= 1, got ${describe(batchSize)}.`,
    );
  }
  const concurrency: unknown = options?.concurrency;
  if (
    concurrency !== undefined &&
    (!Number.isInteger(concurrency) || (concurrency as number) < 0)
  ) {
    problems.add(
      "concurrency",
      `Expected \`concurrency\` to be a whole number >= 0, got ${describe(concurrency)}.`,
    );
  }
  if (typeof (inputs as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
    problems.add(
      "inputs",
      `Expected \`inputs\` to be iterable (an array, a Set, a generator), got ${describe(inputs)}.`,
    );
  }
  problems.throwIfAny();
  const task = (isPartialTask(mapped) ? mapped.task : mapped) as Task<A, R>;
  const spread = task.parameters.length > 1 || task.parameters[0]?.rest === true;
  const items: unknown[] = isPartialTask(mapped)
    ? [...inputs].map((item) => {
        const args = mapped.argsFor(item);
        return spread ? args : args[0];
      })
    : [...inputs];
  const returnExceptions = options.returnExceptions ?? true;
  const array = arrayOf(task, items.length, options.concurrency);
  const chunkSize =
    array === undefined
      ? chunkSizeFor(task, items.length, options.concurrency, options.batchSize)
      : 1;
  const groupName = `${task.name}_${options.groupName ?? "map"}`;
  if (chunkSize > 1) {
    return chunkedResults(items.length, chunkSize, (out) =>
      group(groupName, () => runChunks(task, items, chunkSize, out, returnExceptions)),
    );
  }
  const limit = options.concurrency ? Math.min(options.concurrency, items.length) : items.length;
  const settlers: Array<{ resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  const results = items.map(
    () =>
      new Promise<unknown>((resolve, reject) => {
        settlers.push({ resolve, reject });
      }),
  );
  for (const result of results) result.catch(() => {});
  let next = 0;
  let failed = false;
  const call = task as unknown as (...args: unknown[]) => Promise<unknown>;
  const lane = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const index = next++;
      const item = items[index];
      const settle = settlers[index]!;
      try {
        settle.resolve(await (spread ? call(...(item as unknown[])) : call(item)));
      } catch (error) {
        if (returnExceptions) {
          settle.resolve(error instanceof Error ? error : new Error(String(error)));
        } else {
          failed = true;
          settle.reject(error);
          for (const rest of settlers.slice(next)) rest.reject(error);
        }
      }
    }
  };
  group(groupName, () => {
    if (array !== undefined) {
      // Every item at once: the cluster throttles the array to `concurrency` (Slurm's `%k`).
      items.forEach((item, index) => {
        const args = spread ? (item as unknown[]) : [item];
        callAsMapItem(task as unknown as AnyTask, args, { ...array, index }).then(
          (value) => settlers[index]?.resolve(value),
          (error: unknown) => {
            if (returnExceptions) {
              settlers[index]?.resolve(error instanceof Error ? error : new Error(String(error)));
            } else for (const settle of [settlers[index], ...settlers]) settle?.reject(error);
          },
        );
      });
      return;
    }
    for (let i = 0; i < limit; i++) void lane();
  });
  const all = Promise.all(results);
  return {
    // biome-ignore lint/suspicious/noThenProperty: a map's results are awaitable by design.
    then: (onFulfilled, onRejected) => all.then(onFulfilled, onRejected),
    async *[Symbol.asyncIterator]() {
      for (const result of results) yield await result;
    },
  };
}

/**
 * The results of a batched map: one array filled in place and one promise per chunk, not a
 * promise per item (with a run's async context tracking each promise, those were most of a
 * 100k-item map's cost). The whole rejects with the first failure to arrive, as
 * `Promise.all` over the items would; iterating throws at the failed item, in input order.
 */
function chunkedResults(
  count: number,
  chunkSize: number,
  start: (out: unknown[]) => Array<Promise<ChunkFailure | undefined>>,
): MapResults<unknown> {
  const out: unknown[] = new Array(count);
  const chunks = start(out);
  let left = chunks.length;
  const all = new Promise<unknown[]>((resolve, reject) => {
    if (left === 0) resolve(out);
    for (const chunk of chunks) {
      void chunk.then((failure) => {
        if (failure !== undefined) reject(failure.error);
        else if (--left === 0) resolve(out);
      });
    }
  });
  // Iterated only, a failed map must not also be an unhandled rejection.
  all.catch(() => {});
  return {
    // biome-ignore lint/suspicious/noThenProperty: a map's results are awaitable by design.
    then: (onFulfilled, onRejected) => all.then(onFulfilled, onRejected),
    async *[Symbol.asyncIterator]() {
      for (let c = 0; c < chunks.length; c++) {
        const failure = await chunks[c];
        const end = Math.min(count, (c + 1) * chunkSize);
        for (let i = c * chunkSize; i < end; i++) {
          if (failure !== undefined && i === failure.index) throw failure.error;
          yield out[i];
        }
      }
    },
  };
}

/**
 * For a map inside a hybrid run over an environment offloaded to Slurm: what its items share as
 * one job array. Otherwise `undefined` (items are called `concurrency` at a time).
 */
function arrayOf(
  task: Task<never, unknown>,
  count: number,
  concurrency: number | undefined,
): Omit<MapItem, "index"> | undefined {
  const frame = currentFrame();
  if (frame?.context.mode !== "hybrid" || !isSlurm(task.environment.offload)) return undefined;
  return {
    map: `${frame.context.action.name}/${nodeCrypto().randomUUID()}`,
    count,
    concurrency: concurrency ?? 0,
  };
}
